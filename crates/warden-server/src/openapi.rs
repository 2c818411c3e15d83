//! The OpenAPI document, generated from the route table and the wire types.
//!
//! Paths, methods, permissions and parameters come from [`ROUTES`]. Body
//! schemas come from the wire types themselves (their `ToSchema`
//! derivations), never from names typed by hand: a route's request is its
//! wire type ([`WireType::of`]), and its success answers are inferred from
//! its handler's return type ([`answers_of`]: `Json<Vec<T>>` is an array of
//! `T`, `Json<T>` is `T`, with status 200) or, for a handler that builds its
//! answer (another status, a cookie, several shapes), stated in the table
//! with the same types ([`ok`], [`list`], [`either`], [`empty`]). The
//! components are collected from those types and everything they contain.
//! The refusals each route can give come from [`RouteSpec::refusals`]. A
//! route added to the table appears here without further work, and the
//! router tests check every answer they get against this document.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::future::Future;

use axum::http::Method;
use axum::Json;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, Content, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref,
    RefOr, Required, ResponseBuilder,
};
use utoipa::ToSchema;

use crate::error::{AppError, Problem, PROBLEM_JSON};
use crate::routes::{Access, RouteSpec, Surface, ROUTES};

/// A wire type as the document needs it: its schema's name, the schema,
/// and the schemas of the types inside it.
#[derive(Clone, Copy)]
pub struct WireType {
    name: fn() -> Cow<'static, str>,
    schema: fn() -> RefOr<Schema>,
    nested: fn(&mut Vec<(String, RefOr<Schema>)>),
}

impl WireType {
    /// The wire type `T`.
    pub const fn of<T: ToSchema>() -> WireType {
        WireType {
            name: T::name,
            schema: T::schema,
            nested: T::schemas,
        }
    }

    /// Its schema's name in the document's components.
    pub fn name(&self) -> String {
        (self.name)().into_owned()
    }

    fn reference(&self) -> RefOr<Schema> {
        RefOr::Ref(Ref::from_schema_name(self.name()))
    }

    /// Adds its schema and those of the types inside it to `schemas`.
    fn collect(&self, schemas: &mut BTreeMap<String, RefOr<Schema>>) {
        schemas.insert(self.name(), (self.schema)());
        let mut nested = Vec::new();
        (self.nested)(&mut nested);
        schemas.extend(nested);
    }
}

impl std::fmt::Debug for WireType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// A route's request body: its wire type, and whether it may be left out.
#[derive(Debug, Clone, Copy)]
pub struct RequestBody {
    /// The wire type.
    pub wire: WireType,
    /// Whether the body must be sent (else an empty body means defaults).
    pub required: bool,
}

/// A request body of `T` that must be sent.
pub const fn body<T: ToSchema>() -> Option<RequestBody> {
    Some(RequestBody {
        wire: WireType::of::<T>(),
        required: true,
    })
}

/// A request body of `T` that may be left out.
pub const fn optional_body<T: ToSchema>() -> Option<RequestBody> {
    Some(RequestBody {
        wire: WireType::of::<T>(),
        required: false,
    })
}

/// What a success answer carries.
#[derive(Debug, Clone)]
pub enum AnswerBody {
    /// Nothing (`204`).
    Empty,
    /// One JSON object of a wire type.
    One(WireType),
    /// A JSON array of a wire type.
    List(WireType),
    /// One of several wire types (intake: one item's answer or a batch's).
    Either(Vec<WireType>),
    /// A JSON object whose shape the document does not fix.
    Object,
    /// Text in one of these media types.
    Text(&'static [&'static str]),
    /// A JSON object whose shape the document does not fix, or text in
    /// one of these media types (`?format=`).
    ObjectOrText(&'static [&'static str]),
}

/// One success answer of a route: its status and what it carries.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: AnswerBody,
}

/// An answer with one `T`.
pub fn ok<T: ToSchema>(status: u16) -> Answer {
    Answer {
        status,
        body: AnswerBody::One(WireType::of::<T>()),
    }
}

/// An answer with an array of `T`.
pub fn list<T: ToSchema>(status: u16) -> Answer {
    Answer {
        status,
        body: AnswerBody::List(WireType::of::<T>()),
    }
}

/// An answer with an `A` or a `B`.
pub fn either<A: ToSchema, B: ToSchema>(status: u16) -> Answer {
    Answer {
        status,
        body: AnswerBody::Either(vec![WireType::of::<A>(), WireType::of::<B>()]),
    }
}

/// An answer with no body.
pub fn empty(status: u16) -> Answer {
    Answer {
        status,
        body: AnswerBody::Empty,
    }
}

/// An answer with a free-form JSON object.
pub fn object(status: u16) -> Answer {
    Answer {
        status,
        body: AnswerBody::Object,
    }
}

/// An answer with text in one of `media` types.
pub fn text(status: u16, media: &'static [&'static str]) -> Answer {
    Answer {
        status,
        body: AnswerBody::Text(media),
    }
}

/// An answer with a JSON object or text in one of `media` types.
pub fn object_or_text(status: u16, media: &'static [&'static str]) -> Answer {
    Answer {
        status,
        body: AnswerBody::ObjectOrText(media),
    }
}

/// A JSON body the document can describe from its type.
pub trait DescribedBody {
    /// What it is.
    fn body() -> AnswerBody;
}

impl<T: ToSchema> DescribedBody for Vec<T> {
    fn body() -> AnswerBody {
        AnswerBody::List(WireType::of::<T>())
    }
}

impl DescribedBody for serde_json::Value {
    fn body() -> AnswerBody {
        AnswerBody::Object
    }
}

/// Declares wire types that handlers return one of, as `Json<T>`.
macro_rules! described_objects {
    ($($t:ty),* $(,)?) => {
        $(impl DescribedBody for $t {
            fn body() -> AnswerBody {
                AnswerBody::One(WireType::of::<$t>())
            }
        })*
    };
}

described_objects!(
    crate::wire::CaseView,
    crate::wire::CaseList,
    crate::wire::HistoryView,
    crate::wire::UserView,
    crate::wire::TokenView,
    crate::wire::SessionView,
    crate::wire::DecisionView,
    crate::handlers::ops::HealthView,
    crate::handlers::appeals::AppealList,
    crate::handlers::ops::ReadinessView,
    crate::wire::RecommendationView,
    crate::wire::ActionDetailView,
    crate::wire::DeliveryView,
    crate::wire::TaxonomyVersionView,
    crate::wire::NoticePreviewView,
    crate::wire::DsaValidationView,
    crate::wire::TransparencyView,
    crate::wire::kpis::KpiReportView,
    crate::quality_wire::QaPlanView,
    crate::quality_wire::QaWorkView,
    crate::quality_wire::QaReviewList,
    crate::quality_wire::QaResultsView,
    crate::quality_wire::CalibrationSessionView,
    crate::handlers::quality::SamplingRunView,
    crate::wire::incidents::IncidentView,
    crate::wire::incidents::MembershipView,
    crate::wire::incidents::BulkActionView,
);

/// A handler's return type the document can describe: `Json<T>` is a `200`
/// with `T`, whether or not wrapped in a `Result` whose error is a problem.
pub trait Documented {
    /// The success answers.
    fn answers() -> Vec<Answer>;
}

impl<T: DescribedBody> Documented for Json<T> {
    fn answers() -> Vec<Answer> {
        vec![Answer {
            status: 200,
            body: T::body(),
        }]
    }
}

impl<T: Documented> Documented for Result<T, AppError> {
    fn answers() -> Vec<Answer> {
        T::answers()
    }
}

/// A handler (an async fn of `Args`) whose return type is [`Documented`].
pub trait DocumentedHandler<Args> {
    /// The success answers its return type says it gives.
    fn answers() -> Vec<Answer>;
}

macro_rules! documented_handler {
    ($($arg:ident),*) => {
        impl<F, Fut, $($arg,)*> DocumentedHandler<($($arg,)*)> for F
        where
            F: Fn($($arg),*) -> Fut,
            Fut: Future,
            Fut::Output: Documented,
        {
            fn answers() -> Vec<Answer> {
                <Fut::Output as Documented>::answers()
            }
        }
    };
}

documented_handler!();
documented_handler!(A1);
documented_handler!(A1, A2);
documented_handler!(A1, A2, A3);
documented_handler!(A1, A2, A3, A4);
documented_handler!(A1, A2, A3, A4, A5);
documented_handler!(A1, A2, A3, A4, A5, A6);

/// The success answers of `handler`, read from its return type.
pub fn answers_of<H: DocumentedHandler<Args>, Args>(_handler: H) -> Vec<Answer> {
    H::answers()
}

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

fn json(schema: RefOr<Schema>) -> Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

fn string_schema() -> Schema {
    ObjectBuilder::new().schema_type(Type::String).into()
}

/// The response of one success answer.
fn success(answer: &Answer) -> utoipa::openapi::Response {
    let mut response = ResponseBuilder::new().description(match answer.status {
        201 => "Created",
        204 => "Nothing to answer",
        _ => "Success",
    });
    response = match &answer.body {
        AnswerBody::Empty => response,
        AnswerBody::One(wire) => response.content("application/json", json(wire.reference())),
        AnswerBody::List(wire) => response.content(
            "application/json",
            json(ArrayBuilder::new().items(wire.reference()).into()),
        ),
        AnswerBody::Either(wires) => {
            let mut one_of = OneOfBuilder::new();
            for wire in wires {
                one_of = one_of.item(wire.reference());
            }
            response.content("application/json", json(one_of.into()))
        }
        AnswerBody::Object => response.content(
            "application/json",
            json(ObjectBuilder::new().schema_type(Type::Object).into()),
        ),
        AnswerBody::Text(media) => media.iter().fold(response, |response, media| {
            response.content(*media, json(string_schema().into()))
        }),
        AnswerBody::ObjectOrText(media) => media.iter().fold(
            response.content(
                "application/json",
                json(ObjectBuilder::new().schema_type(Type::Object).into()),
            ),
            |response, media| response.content(*media, json(string_schema().into())),
        ),
    };
    response.build()
}

/// What each refusal status means, for the document.
fn refusal_description(status: u16) -> &'static str {
    match status {
        400 => "Malformed: a body, path parameter or header that does not decode, or a JSON key given twice",
        401 => "No or bad credentials",
        403 => "Not allowed",
        404 => "Not found",
        409 => "Conflicts with the current state; nothing changed",
        413 => "Too large",
        415 => "Wrong content type",
        422 => "Invalid fields or query parameters",
        429 => "Too many attempts",
        500 => "Warden failed; the cause is in its log",
        503 => "Over the time or concurrency limit, or the database does not answer",
        _ => "Refused",
    }
}

fn operation_id(route: &RouteSpec) -> String {
    format!(
        "{}_{}",
        route.method.as_str().to_lowercase(),
        route
            .path
            .trim_start_matches('/')
            .replace(['/', '{', '}', '.', '-'], "_")
    )
}

/// The schemas the document refers to, by name.
type Schemas = BTreeMap<String, RefOr<Schema>>;

/// The whole document.
pub fn document() -> OpenApi {
    let mut paths = Paths::new();
    let mut schemas = Schemas::new();
    WireType::of::<Problem>().collect(&mut schemas);
    for route in ROUTES.iter().filter(|r| r.surface == Surface::Api) {
        paths.add_path_operation(
            route.path,
            vec![http_method(&route.method)],
            operation(route, &mut schemas).build(),
        );
    }
    let mut components = ComponentsBuilder::new().security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    for (name, schema) in schemas {
        components = components.schema(name, schema);
    }
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
        .components(Some(components.build()))
        .build()
}

/// One route's operation: who may call it, its path parameters, body and
/// answers; the wire types it names go into `schemas`.
fn operation(route: &RouteSpec, schemas: &mut Schemas) -> OperationBuilder {
    let permission = match route.access {
        Access::Public => "public".to_string(),
        Access::SignedIn => "any signed-in caller".to_string(),
        Access::Needs(permission) => format!("needs `{permission}`"),
    };
    let mut operation = OperationBuilder::new()
        .summary(Some(route.summary))
        .description(Some(format!(
            "Access: {permission}. `HEAD` answers as `GET` does, without the body; another method is `405` with `Allow`."
        )))
        .tag(route.tag)
        .operation_id(Some(operation_id(route)));
    for name in route.parameters() {
        operation = operation.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
        );
    }
    if let Some(request) = &route.request {
        request.wire.collect(schemas);
        let required = if request.required {
            Required::True
        } else {
            Required::False
        };
        let mut body = RequestBodyBuilder::new()
            .required(Some(required))
            .content("application/json", json(request.wire.reference()));
        if route.tag == "intake" {
            body = body.content("application/x-ndjson", json(request.wire.reference()));
        }
        operation = operation.request_body(Some(body.build()));
    }
    operation = answers(route, operation, schemas);
    if route.access != Access::Public {
        operation = operation.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
    }
    operation
}

/// The route's answers: its successes, then its refusals as problems.
fn answers(
    route: &RouteSpec,
    mut operation: OperationBuilder,
    schemas: &mut Schemas,
) -> OperationBuilder {
    for answer in (route.answers)() {
        match &answer.body {
            AnswerBody::One(wire) | AnswerBody::List(wire) => wire.collect(schemas),
            AnswerBody::Either(wires) => wires.iter().for_each(|w| w.collect(schemas)),
            AnswerBody::Empty
            | AnswerBody::Object
            | AnswerBody::Text(_)
            | AnswerBody::ObjectOrText(_) => {}
        }
        operation = operation.response(answer.status.to_string(), success(&answer));
    }
    for status in route.refusals() {
        operation = operation.response(
            status.to_string(),
            ResponseBuilder::new()
                .description(refusal_description(status))
                .content(PROBLEM_JSON, json(WireType::of::<Problem>().reference()))
                .build(),
        );
    }
    operation
}
