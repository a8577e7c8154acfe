// The namespaced LAN the tests use lives in the host now (host/site/netns.ts),
// where `pfs site` builds its site from it; the tests keep importing it here.

export * from "../../host/site/netns.js";
