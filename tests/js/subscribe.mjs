// The graphql-ws client (as Apollo Client, urql and GraphiQL use it) against the API:
//   node subscribe.mjs ws://HOST/graphql TOKEN QUERY [VARIABLES_JSON]
// Prints "connected", then each result as one JSON line; exits 0 after the first result
// (or 1 on any error, printing it).
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, token, query, variables] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
  on: { connected: () => console.log("connected") },
});

function fail(error) {
  // a refused connection rejects with the socket's CloseEvent
  const detail =
    error instanceof Error
      ? error.message
      : error && typeof error.code === "number"
        ? `closed ${error.code} ${error.reason}`
        : JSON.stringify(error);
  console.log(JSON.stringify({ failed: detail }));
  process.exit(1);
}

try {
  const results = client.iterate({ query, variables: variables ? JSON.parse(variables) : {} });
  for await (const result of results) {
    console.log(JSON.stringify(result));
    break;
  }
  await client.dispose();
  process.exit(0);
} catch (error) {
  fail(error);
}
