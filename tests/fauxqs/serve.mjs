// Starts fauxqs on loopback only (its own CLI listens on every interface),
// on the port given (0: a free one), and says where: "listening on HOST:PORT".
import { buildApp } from "fauxqs";

const port = Number(process.argv[2] ?? "0");
const app = buildApp({ logger: false });
await app.listen({ port, host: "127.0.0.1" });
const address = app.server.address();
console.log(`listening on 127.0.0.1:${address.port}`);
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => app.close().then(() => process.exit(0)));
}
