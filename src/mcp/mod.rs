//! The MCP server face: the spec-generated tool table served over stdio with rmcp.
