// GraphiQL for /graphql (graph/ide.py serves this page and its bundles).
// Queries and mutations: HTTP with the Headers editor's headers.
// Subscriptions: graphql-ws, with the Headers editor's Authorization in connection_init.
// /graphql#token=mxo_... puts that token in the Headers editor (the fragment never reaches
// the server) and is then removed from the address bar.
(function () {
  "use strict";
  const endpoint = new URL("/graphql", window.location.href);
  const socketUrl = endpoint.href.replace(/^http/, "ws");
  const http = GraphiQL.createFetcher({ url: endpoint.href });
  let socket = null;
  let socketAuth = null;

  function authorization(headers) {
    for (const [name, value] of Object.entries(headers || {})) {
      if (name.toLowerCase() === "authorization") return String(value);
    }
    return "";
  }

  function client(headers) {
    const auth = authorization(headers);
    if (socket === null || auth !== socketAuth) {
      if (socket !== null) socket.dispose();
      socketAuth = auth;
      socket = graphqlWs.createClient({
        url: socketUrl,
        connectionParams: { Authorization: auth },
      });
    }
    return socket;
  }

  function isSubscription(params, options) {
    const document = options && options.documentAST;
    if (!document) return false;
    const operations = document.definitions.filter((d) => d.kind === "OperationDefinition");
    const operation = params.operationName
      ? operations.find((d) => d.name && d.name.value === params.operationName)
      : operations[0];
    return Boolean(operation) && operation.operation === "subscription";
  }

  function fetcher(params, options) {
    if (isSubscription(params, options)) {
      return client(options.headers).iterate({
        query: params.query,
        variables: params.variables || undefined,
        operationName: params.operationName || undefined,
      });
    }
    return http(params, options);
  }

  const token = new URLSearchParams(window.location.hash.slice(1)).get("token");
  const props = {
    fetcher: fetcher,
    shouldPersistHeaders: true,
    defaultEditorToolsVisibility: "headers",
    defaultHeaders: JSON.stringify({ Authorization: "Bearer <a token: make run prints them>" }, null, 2),
    defaultQuery: "{\n  viewer { name isSupport }\n  apps(first: 5) { totalCount nodes { name status } }\n}\n",
  };
  if (token) {
    props.headers = JSON.stringify({ Authorization: "Bearer " + token }, null, 2);
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, props));
})();
