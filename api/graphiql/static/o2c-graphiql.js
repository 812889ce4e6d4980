// Starts GraphiQL against this server's /graphql (HTTP and graphql-transport-ws), with the
// header editor open and pre-filled with the Authorization header to complete.
(function () {
  var url = window.location.href.split("?")[0].split("#")[0];
  var ws = new URL(url);
  ws.protocol = ws.protocol === "https:" ? "wss:" : "ws:";
  var fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: ws.toString() });
  var headers = '{\n  "Authorization": "Bearer <key>"\n}';
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultHeaders: headers,
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false, // an API key is not kept in the browser's storage
    })
  );
})();
