// Baseline for fan-out: a raw `ws` server that, for each published event, serializes one payload
// (shaped like a graphql-ws "next" message for consentChanged) and sends that same string to every
// connected client. POST /publish {"id": n} publishes event n.
import { createServer } from "node:http";
import { WebSocketServer, WebSocket } from "ws";

const port = Number(process.env.PORT);

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/healthz") return void res.writeHead(200).end("ok");
  if (req.method !== "POST" || req.url !== "/publish") return void res.writeHead(404).end();
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const { id } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id: number };
    const payload = JSON.stringify({
      id: "1",
      type: "next",
      payload: {
        data: {
          consentChanged: {
            id: `Q29uc2VudEV2ZW50OjAxOWFjYjZlLTAwMDAtNzAwMC04MDAwLSR7aWR9${id}`,
            cursor: Buffer.from(`consent:${id}`).toString("base64url"),
            sequence: id,
            toStatus: "OPTED_IN",
            method: "WEB_FORM",
            recordedAt: new Date().toISOString(),
          },
        },
      },
    });
    let sent = 0;
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) {
        client.send(payload);
        sent++;
      }
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ sent }));
  });
});

const wss = new WebSocketServer({ server, path: "/ws" });
server.listen(port, "127.0.0.1");

const stop = () => {
  for (const client of wss.clients) client.terminate();
  wss.close();
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
