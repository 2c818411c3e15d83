//! Integration tests of the stream layer against a real NATS JetStream
//! server, named by `WARDEN_TEST_NATS_URL` (`nats://127.0.0.1:4222`); without
//! it they skip, saying so once. Every test uses streams, consumers and
//! buckets of its own (a random suffix) and deletes them afterwards.
//!
//! New tests go in the module of what they exercise.
#![allow(clippy::too_many_lines)] // Tests read as whole stories.

mod broadcast;
mod consumer;
mod intake;
mod partitions;
mod status;
mod support;
