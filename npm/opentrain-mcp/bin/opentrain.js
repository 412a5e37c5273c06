#!/usr/bin/env node
// `opentrain`: the command line binary of this platform.
"use strict";
require("../lib/run").run("opentrain");
