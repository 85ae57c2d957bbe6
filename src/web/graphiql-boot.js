// GraphiQL's bootstrap (served at /graphiql/assets/boot.js): reads the page's options from its JSON
// data block, points Monaco at its workers on this origin, then renders Yoga's GraphiQL bundle.
const base = new URL('./', import.meta.url);
const WORKERS = {
  json: 'monacoeditorwork/json.worker.bundle.js',
  graphql: 'monacoeditorwork/graphql.worker..bundle.js',
  editorWorkerService: 'monacoeditorwork/editor.worker.bundle.js',
};
self.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl: (_moduleId, label) => new URL(WORKERS[label] ?? WORKERS.editorWorkerService, base).href,
};
const options = JSON.parse(document.getElementById('graphiql-options').textContent);
const { renderYogaGraphiQL } = await import(new URL('yoga-graphiql.es.js', base).href);
renderYogaGraphiQL(document.getElementById('root'), options);
