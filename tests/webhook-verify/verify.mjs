// Usage: node verify.mjs SECRET REQUESTS.json
// REQUESTS.json: [{"headers": {"webhook-id": ..., ...}, "body": "..."}, ...]
// Verifies every request with the standardwebhooks library (as a receiver
// would, with its default five-minute tolerance); prints "N verified" and
// exits 0, or names the first request that fails and exits 1.
import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";

const [secret, file] = process.argv.slice(2);
if (!secret || !file) {
  console.error("usage: node verify.mjs SECRET REQUESTS.json");
  process.exit(2);
}
// The library takes "whsec_<base64>" or the base64 of the raw key.
const key = secret.startsWith("whsec_") ? secret : Buffer.from(secret, "utf8").toString("base64");
const wh = new Webhook(key);
const requests = JSON.parse(readFileSync(file, "utf8"));
let n = 0;
for (const r of requests) {
  try {
    wh.verify(r.body, r.headers);
    n++;
  } catch (e) {
    console.error(`request ${n}: ${e.message}: ${JSON.stringify(r.headers)}`);
    process.exit(1);
  }
}
// A replay with a changed body or an old timestamp must fail.
if (requests.length > 0) {
  const r = requests[0];
  let refused = 0;
  try { wh.verify(r.body + " ", r.headers); } catch { refused++; }
  const old = { ...r.headers, "webhook-timestamp": String(Number(r.headers["webhook-timestamp"]) - 3600) };
  try { wh.verify(r.body, old); } catch { refused++; }
  if (refused !== 2) {
    console.error("a tampered or replayed request was accepted");
    process.exit(1);
  }
}
console.log(`${n} verified`);
