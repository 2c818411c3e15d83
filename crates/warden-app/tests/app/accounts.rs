//! The minting rule and sign-in refusals, through the application.

use warden_app::accounts::{MintTokenCommand, SignIn, SignInFailure};
use warden_app::{Actor, CommandError};
use warden_domain::access::{Role, Scope};
use warden_domain::ids::UserName;

use crate::app_test;
use crate::support::TestApp;

fn mint(user: &str, scope: Scope) -> MintTokenCommand {
    MintTokenCommand {
        user: UserName::parse(user).unwrap(),
        scope,
        name: None,
    }
}

fn refused_field(error: CommandError) -> String {
    match error {
        CommandError::Invalid(errors) => errors.0[0].field.clone(),
        other => panic!("expected a refusal naming a field, got {other:?}"),
    }
}

async fn tokens_are_minted_by_their_own_user(t: &TestApp) {
    let analyst = t.user("anna", Role::Analyst, &[]).await;
    let admin = t.user("ada", Role::Admin, &[]).await;
    t.user("lena", Role::Lead, &[]).await;

    // Their own, any scope within their role.
    let (own, secret) = t
        .app
        .mint_token(&analyst, mint("anna", Scope::Review))
        .await
        .unwrap();
    assert_eq!(own.minted_by.as_deref(), Some("anna"));
    assert!(secret.starts_with("wdn_"));
    let authenticated = t.app.authenticate_token(&secret).await.unwrap();
    assert_eq!(authenticated.principal.name, "anna");
    assert_eq!(authenticated.principal.scope, Some(Scope::Review));

    // Not for someone else; an admin only ingest tokens for users who ingest.
    let for_lead = t
        .app
        .mint_token(&analyst, mint("lena", Scope::Read))
        .await
        .unwrap_err();
    assert_eq!(refused_field(for_lead), "user");
    let review = t
        .app
        .mint_token(&admin, mint("lena", Scope::Review))
        .await
        .unwrap_err();
    assert_eq!(refused_field(review), "scope");
    let ingest = t
        .app
        .mint_token(&admin, mint("lena", Scope::Ingest))
        .await
        .unwrap_err();
    assert_eq!(refused_field(ingest), "user");
    t.user("platform", Role::Admin, &[]).await;
    let (minted, _) = t
        .app
        .mint_token(&admin, mint("platform", Scope::Ingest))
        .await
        .unwrap();
    assert_eq!(minted.minted_by.as_deref(), Some("ada"));
    let ghost = t
        .app
        .mint_token(&admin, mint("ghost", Scope::Ingest))
        .await
        .unwrap_err();
    assert_eq!(refused_field(ghost), "user");

    // The operator at the machine mints any; the token says `system`.
    let (by_operator, _) = t
        .app
        .mint_token(&Actor::Operator, mint("lena", Scope::Review))
        .await
        .unwrap();
    assert_eq!(by_operator.minted_by.as_deref(), Some("system"));
}
app_test!(minting, tokens_are_minted_by_their_own_user);

async fn every_sign_in_refusal_is_the_same(t: &TestApp) {
    t.user("anna", Role::Analyst, &[]).await;
    let sign_in = |name: &str, password: &str| {
        let app = t.app.clone();
        let attempt = SignIn {
            name: name.into(),
            password: password.into(),
        };
        async move { app.open_session(attempt).await }
    };
    for (name, password) in [
        ("anna", "wrong password"),
        ("nobody", "a long password"),
        ("an\u{0}na", "a long password"),
    ] {
        let refused = sign_in(name, password).await.unwrap_err();
        assert!(
            matches!(refused, SignInFailure::Refused),
            "{name}: {refused:?}"
        );
    }
    let opened = sign_in("anna", "a long password").await.unwrap();
    let session = t.app.authenticate_session(&opened.secret).await.unwrap();
    assert_eq!(session.principal.name, "anna");
    let keys = session.session.unwrap();
    assert_eq!(keys.csrf, opened.csrf);
    t.app.close_session(&keys.hash).await.unwrap();
    let ended = t
        .app
        .authenticate_session(&opened.secret)
        .await
        .unwrap_err();
    assert!(
        matches!(ended, CommandError::Unauthenticated(_)),
        "{ended:?}"
    );
}
app_test!(sign_in, every_sign_in_refusal_is_the_same);
