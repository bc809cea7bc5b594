// The page's GraphQL operations live in graph/operations/<Name>.graphql, each a whole named
// document (fragments included; values only as variables), served at /operations/<Name>.graphql.
// Where the server registered them as trusted documents (GET /documents: name -> documentId)
// the page sends the documentId; otherwise the text. tests/test_dashboard_queries.py checks
// that every file validates against the schema and that the page names no other operation.
"use strict";

let documentIds = null;  // name -> "sha256:…", or {} when the server registers none
const texts = new Map();

async function loadDocumentIds() {
  try {
    const response = await fetch("/documents", { headers: { Accept: "application/json" } });
    const manifest = response.ok ? await response.json() : {};
    documentIds = manifest && typeof manifest === "object" ? manifest : {};
  } catch {
    documentIds = {};
  }
}

function operationText(name) {
  if (!texts.has(name)) {
    texts.set(name, fetch(`/operations/${encodeURIComponent(name)}.graphql`).then((response) => {
      if (!response.ok) throw new Error(`The page's operation ${name} is missing (${response.status})`);
      return response.text();
    }).catch((error) => { texts.delete(name); throw error; }));
  }
  return texts.get(name);
}

// The POST body for one operation: its registered documentId, else its whole text.
async function requestBody(name, variables, useText = false) {
  if (documentIds === null) await loadDocumentIds();
  if (!useText && documentIds[name]) return { documentId: documentIds[name], variables, operationName: name };
  return { query: await operationText(name), variables, operationName: name };
}
