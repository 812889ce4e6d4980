// node audit.mjs URL KEY — runs every graphql-http server audit and prints the results as JSON.
import { serverAudits } from "graphql-http";

const [url, key] = process.argv.slice(2);
const fetchFn = (input, init = {}) =>
  fetch(input, { ...init, headers: { ...(init.headers || {}), authorization: `Bearer ${key}` } });
const results = [];
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  results.push({ id: audit.id, name: audit.name, status: result.status, reason: result.reason ?? null });
}
console.log(JSON.stringify(results));
