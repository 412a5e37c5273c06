//! End-to-end tests of the `opentrain-mcp` binary: each test spawns the built server as a child
//! process with a private HOME, points it at an httpmock API on 127.0.0.1 and drives it as a real
//! MCP client would (rmcp's client, or raw lines where a client would never misbehave).

mod credentials;
mod e2e;
mod filtering;
mod handlers;
mod harness;
mod http;
mod input;
mod lenient;
mod outcome;
mod prompts;
mod protocol;
mod requires;
mod secrets;
mod signals;
mod tools;
