//! The OpenAPI document, generated from the route table and the wire types.
//!
//! Paths, methods, permissions and parameters come from [`ROUTES`]; body
//! schemas come from the wire types' `ToSchema` derivations. A route added to
//! the table appears here without further work.

use axum::http::Method;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, Required,
    ResponseBuilder,
};

use crate::error::Problem;
use crate::routes::{Access, Surface, ROUTES};
use crate::wire::*;

fn http_method(method: &Method) -> HttpMethod {
    match *method {
        Method::GET => HttpMethod::Get,
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::DELETE => HttpMethod::Delete,
        Method::PATCH => HttpMethod::Patch,
        _ => HttpMethod::Head,
    }
}

fn json_ref(name: &str) -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(name)))
        .build()
}

/// The whole document.
pub fn document() -> OpenApi {
    let mut paths = Paths::new();
    for route in ROUTES.iter().filter(|r| r.surface == Surface::Api) {
        let permission = match route.access {
            Access::Public => "public".to_string(),
            Access::SignedIn => "any signed-in caller".to_string(),
            Access::Needs(permission) => format!("needs `{permission}`"),
        };
        let mut operation = OperationBuilder::new()
            .summary(Some(route.summary))
            .description(Some(format!("Access: {permission}.")))
            .tag(route.tag)
            .operation_id(Some(format!(
                "{}_{}",
                route.method.as_str().to_lowercase(),
                route
                    .path
                    .trim_start_matches('/')
                    .replace(['/', '{', '}', '.'], "_")
            )));
        for segment in route.path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                operation = operation.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
                );
            }
        }
        if let Some(request) = route.request {
            let mut body = RequestBodyBuilder::new().content("application/json", json_ref(request));
            if route.tag == "intake" {
                body = body.content(
                    "application/x-ndjson",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name(request)))
                        .build(),
                );
            }
            operation = operation.request_body(Some(body.build()));
        }
        let mut success = ResponseBuilder::new().description("Success");
        if let Some(response) = route.response {
            success = success.content("application/json", json_ref(response));
        }
        operation = operation.response(route.success.to_string(), success.build());
        if route.tag == "intake" {
            operation = operation.response(
                "200",
                ResponseBuilder::new()
                    .description("A repeat (duplicate), an update, or a batch's per-item results")
                    .content("application/json", json_ref("BatchAnswer"))
                    .build(),
            );
        }
        for (status, why) in [
            ("400", "Malformed body"),
            ("401", "No or bad credentials"),
            ("403", "Not allowed"),
            ("404", "Not found"),
            ("409", "Conflicts with the current state; nothing changed"),
            ("413", "Too large"),
            ("415", "Wrong content type"),
            ("422", "Invalid fields"),
        ] {
            operation = operation.response(
                status,
                ResponseBuilder::new()
                    .description(why)
                    .content("application/problem+json", json_ref("Problem"))
                    .build(),
            );
        }
        if route.access != Access::Public {
            operation =
                operation.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
        }
        paths.add_path_operation(
            route.path,
            vec![http_method(&route.method)],
            operation.build(),
        );
    }
    let components = ComponentsBuilder::new()
        .security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        )
        .schema_from::<Problem>()
        .schema_from::<crate::error::ProblemField>()
        .schema_from::<SubjectRefBody>()
        .schema_from::<MediaBody>()
        .schema_from::<SubjectBody>()
        .schema_from::<EventBody>()
        .schema_from::<ReportBody>()
        .schema_from::<SignalBody>()
        .schema_from::<RationaleBody>()
        .schema_from::<ActionBody>()
        .schema_from::<DecisionBody>()
        .schema_from::<VersionBody>()
        .schema_from::<ReasonBody>()
        .schema_from::<EscalateBody>()
        .schema_from::<AssignBody>()
        .schema_from::<SignInBody>()
        .schema_from::<NewUserBody>()
        .schema_from::<NewTokenBody>()
        .schema_from::<IntakeAnswer>()
        .schema_from::<BatchItemResult>()
        .schema_from::<BatchAnswer>()
        .schema_from::<SubjectRefView>()
        .schema_from::<SlaView>()
        .schema_from::<ReportView>()
        .schema_from::<SignalView>()
        .schema_from::<TransitionView>()
        .schema_from::<ActionView>()
        .schema_from::<DecisionView>()
        .schema_from::<NoteView>()
        .schema_from::<StrikeView>()
        .schema_from::<SubjectView>()
        .schema_from::<EventView>()
        .schema_from::<CaseView>()
        .schema_from::<CaseList>()
        .schema_from::<HistoryView>()
        .schema_from::<UserView>()
        .schema_from::<TokenView>()
        .schema_from::<crate::wire::TeamsBody>()
        .schema_from::<SessionView>()
        .schema_from::<AuditView>()
        .schema_from::<QueueView>()
        // Enforcement.
        .schema_from::<crate::enforcement_wire::DecisionRequest>()
        .schema_from::<crate::enforcement_wire::ActionSpecView>()
        .schema_from::<crate::enforcement_wire::ApprovalReasonView>()
        .schema_from::<crate::enforcement_wire::AwaitingApprovalView>()
        .schema_from::<crate::enforcement_wire::ReversalView>()
        .schema_from::<crate::enforcement_wire::DecisionEnforcementView>()
        .schema_from::<crate::enforcement_wire::RecommendationView>()
        .schema_from::<crate::enforcement_wire::ApprovalOutcomeView>()
        .schema_from::<crate::enforcement_wire::DeliveryView>()
        .schema_from::<crate::enforcement_wire::ActionDetailView>()
        .schema_from::<crate::enforcement_wire::RulingBody>()
        .schema_from::<crate::enforcement_wire::CallbackBody>()
        .schema_from::<crate::enforcement_wire::TaxonomyVersionView>()
        .schema_from::<crate::enforcement_wire::TaxonomyBody>()
        .schema_from::<crate::enforcement_wire::NoticeTemplateBody>()
        .schema_from::<crate::enforcement_wire::NoticeTemplateView>()
        .schema_from::<crate::enforcement_wire::NoticePreviewView>()
        .schema_from::<crate::enforcement_wire::NoticeView>()
        .schema_from::<crate::enforcement_wire::DsaStatementView>()
        .schema_from::<crate::enforcement_wire::DsaValidateBody>()
        .schema_from::<crate::enforcement_wire::DsaValidationView>()
        .schema_from::<crate::enforcement_wire::TransparencyView>()
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Warden")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Trust & Safety operations: intake, cases and queues, decisions, audit.",
                )),
        )
        .paths(paths)
        .components(Some(components))
        .build()
}
