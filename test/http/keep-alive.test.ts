// Idle keep-alive connections: the server keeps them longer than clients do, so a client never
// sends a request on a connection the server is closing at that moment (the ECONNRESET race).
import { request, Agent } from "node:http";
import { describe, expect, it } from "vitest";
import { testApp } from "../support/app.ts";

function get(agent: Agent, port: number, path: string) {
  return new Promise<{ status: number; reusedSocket: boolean }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode!, reusedSocket: req.reusedSocket }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("keep-alive", () => {
  it("keeps an idle connection open longer than a client's keep-alive (undici: 4 s)", async () => {
    const app = await testApp();
    // a client that keeps idle sockets as long as the server lets it (Node's default server
    // timeout is 5 s: longer than undici's 4 s only by a second, which a loaded machine loses)
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(agent, app.server.port, "/healthz");
      expect(first).toEqual({ status: 200, reusedSocket: false });
      await new Promise((resolve) => setTimeout(resolve, 6000));
      const second = await get(agent, app.server.port, "/healthz");
      expect(second).toEqual({ status: 200, reusedSocket: true });
    } finally {
      agent.destroy();
    }
  });

  it("announces its keep-alive timeout to clients", async () => {
    const app = await testApp();
    const response = await fetch(`http://127.0.0.1:${app.server.port}/healthz`);
    await response.arrayBuffer();
    expect(response.headers.get("keep-alive")).toBe("timeout=65");
  });
});
