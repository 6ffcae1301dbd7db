// The AI SDK suite with ai 6 (the version pinned in package.json):
//   cd examples/e2e/aisdk/ai6 && npm ci && npm test
// The suite's own imports resolve outside this directory, so the packages come from here.
import * as ai from "ai";
import { WebSocket } from "ws";
import { suite } from "../suite.mjs";

suite(ai, "ai 6", WebSocket);
