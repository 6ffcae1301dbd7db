// Test harness shared by the ai5 and ai6 suites: it runs the examples/cluster binary (two
// chatwire instances sharing one Redis: $REDIS_URL when set, else the example's embedded
// miniredis) with the streaming fake model, on random loopback ports, and stops it after.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

// clusterBinary returns the path of a built examples/cluster: $CHATWIRE_CLUSTER_BIN when
// set (CI builds it once for both suites), else a fresh `go build` into a temporary dir.
function clusterBinary() {
  if (process.env.CHATWIRE_CLUSTER_BIN) return { bin: process.env.CHATWIRE_CLUSTER_BIN, cleanup() {} };
  const dir = mkdtempSync(path.join(tmpdir(), "chatwire-aisdk-"));
  const bin = path.join(dir, "cluster");
  execFileSync("go", ["build", "-o", bin, "./examples/cluster"], { cwd: repoRoot, stdio: "inherit" });
  return { bin, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// startCluster starts both instances and resolves to {a, b, stop}, where a and b are
// "http://127.0.0.1:PORT" base URLs. extraArgs go to the example after the harness's flags.
export async function startCluster(extraArgs = []) {
  const { bin, cleanup } = clusterBinary();
  // -word-delay 15ms: a reply streams for about 2 s, long enough to act in the middle of it.
  const args = ["-addr", "127.0.0.1:0", "-addr2", "127.0.0.1:0", "-stream", "-word-delay", "15ms"];
  if (process.env.REDIS_URL) args.push("-redis", process.env.REDIS_URL);
  args.push(...extraArgs);
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => { err += d; });
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const addrs = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("cluster did not print two addresses in 60 s:\n" + out + err)), 60000);
    child.stdout.on("data", (d) => {
      out += d;
      const found = [...out.matchAll(/http:\/\/((?:127\.0\.0\.1|localhost|\[::1\]):\d+)/g)].map((m) => m[1]);
      if (found.length >= 2) {
        clearTimeout(timer);
        resolve(found.slice(0, 2));
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`cluster exited (${code ?? signal}) before serving:\n${out}${err}`));
    });
  });
  const [a, b] = addrs.map((h) => "http://" + h.replace("localhost", "127.0.0.1"));
  return {
    a,
    b,
    logs: () => out + err,
    async stop() {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 15000);
      await exited;
      clearTimeout(t);
      cleanup();
    },
  };
}

// wsURL turns an instance's base URL into its chat WebSocket endpoint.
export function wsURL(base) {
  return base.replace(/^http/, "ws") + "/chat";
}
