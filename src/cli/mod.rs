//! The command-line face: the official CLI's commands over the spec-generated client.
