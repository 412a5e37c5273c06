//! Cursor pagination as streams.
