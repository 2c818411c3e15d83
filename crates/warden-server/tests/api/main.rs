//! In-memory router tests: the whole application over a real SQLite store,
//! called with `oneshot`, no sockets. New tests go in the module of the
//! resource they exercise; `support` holds the one helper they share.
#![allow(clippy::too_many_lines)] // Tests read as whole stories.

mod access;
mod appeals;
mod cases;
mod console;
mod enforcement;
mod escalations;
mod hostile;
mod http;
mod incidents;
mod intake;
mod kpis;
mod least_privilege;
mod matrix;
mod operations;
mod privacy;
mod quality;
mod support;
mod taxonomy;
