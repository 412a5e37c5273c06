#!/usr/bin/env node
// `opentrain-mcp`: the MCP server binary of this platform.
"use strict";
require("../lib/run").run("opentrain-mcp");
