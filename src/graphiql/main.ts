// GraphiQL for optgraph, bundled with its assets (scripts/build-graphiql.mjs), so it works on a
// network without a CDN. The API key is entered once, kept in sessionStorage (this tab only), and
// used for everything GraphiQL sends: queries over HTTP, the introspection behind the docs (run
// again when the key changes) and subscriptions over graphql-ws (`connectionParams`).
import { createGraphiQLFetcher, type Fetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import "graphiql/style.css";
import { createClient, type Client } from "graphql-ws";
import { GraphQLError, Kind, parse } from "graphql";
import { createElement as h, useEffect, useMemo, useState, type FormEvent } from "react";
import { createRoot } from "react-dom/client";
import "./page.css";

const KEY_STORAGE = "optgraph.apiKey";
const ENDPOINT = "/graphql";

/** Without a key nothing is sent: the server would only answer 401. */
const keyMissing: Fetcher = () => ({
  errors: [new GraphQLError("Enter your API key in the field above the editor.")],
});

function readStoredKey(): string {
  try {
    return sessionStorage.getItem(KEY_STORAGE) ?? "";
  } catch {
    return "";
  }
}

function storeKey(key: string) {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    // storage refused (private mode): the key lasts as long as the page
  }
}

function connectionFor(key: string): { fetcher: Fetcher; socket: Client | null } {
  if (!key) return { fetcher: keyMissing, socket: null };
  const authorization = `Bearer ${key}`;
  const socketUrl = new URL(ENDPOINT, location.href);
  socketUrl.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = createClient({
    url: socketUrl.href,
    connectionParams: { authorization },
    lazy: true,
  });
  const viaHttpOrSocket = createGraphiQLFetcher({
    url: new URL(ENDPOINT, location.href).href,
    headers: { authorization },
    wsClient: socket,
  });
  // The toolkit sends an operation over the WebSocket when the editor's parsed document has a
  // subscription of the operation's name; the editor parses after a pause, so an operation run
  // right after typing or pasting comes without its name and would go over HTTP. The document
  // sent is parsed here instead, and its one operation named when the editor did not.
  const fetcher: Fetcher = (params, options) => {
    let documentAST = options?.documentAST;
    let operationName = params.operationName;
    try {
      documentAST = parse(params.query);
      const operations = documentAST.definitions.filter(
        (definition) => definition.kind === Kind.OPERATION_DEFINITION,
      );
      if (!operationName && operations.length === 1) {
        operationName = operations[0].name?.value ?? operationName;
      }
    } catch {
      // not valid GraphQL: the server's answer says why
    }
    return viaHttpOrSocket({ ...params, operationName }, { ...options, documentAST });
  };
  return { fetcher, socket };
}

function KeyBar(props: { current: string; onKey: (key: string) => void }) {
  const [draft, setDraft] = useState(props.current);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    props.onKey(draft.trim());
  };
  return h(
    "form",
    { className: "key-bar", onSubmit: submit, "aria-label": "API key" },
    h("label", { htmlFor: "api-key" }, "API key"),
    h("input", {
      id: "api-key",
      type: "password",
      autoComplete: "off",
      spellCheck: false,
      placeholder: "og_…",
      value: draft,
      onChange: (event: { target: HTMLInputElement }) => setDraft(event.target.value),
    }),
    h("button", { type: "submit" }, "Use key"),
    h(
      "output",
      { htmlFor: "api-key", "aria-live": "polite" },
      props.current
        ? "Queries, the docs and subscriptions use this key (kept in this tab only)."
        : "Paste the key `npm start` printed (or one from createApiKey) and press Use key.",
    ),
  );
}

function Page() {
  const [key, setKey] = useState(readStoredKey);
  const { fetcher, socket } = useMemo(() => connectionFor(key), [key]);
  useEffect(() => () => void socket?.dispose(), [socket]);
  const useKey = (next: string) => {
    storeKey(next);
    setKey(next);
  };
  return h(
    "div",
    { style: { display: "contents" } },
    h(KeyBar, { current: key, onKey: useKey }),
    h(
      "div",
      { className: "graphiql-host" },
      // a new key mounts a new GraphiQL: it introspects again, so the docs show the schema
      h(GraphiQL, { key, fetcher, isHeadersEditorEnabled: true }),
    ),
  );
}

createRoot(document.getElementById("graphiql-root")!).render(h(Page));
