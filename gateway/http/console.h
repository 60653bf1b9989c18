// The web console: the static files of console/ (HTML, CSS, JavaScript
// modules), compiled into the binary by gw_embed_file and served by the
// gateway itself at /console/. Nothing is built or read from disk at run time,
// and the page loads nothing from anywhere else: every response carries a
// Content-Security-Policy of default-src 'self' (no inline scripts or styles).
//
// The console holds no secret of its own: it calls the public HTTP API with the
// bearer token its user types in (kept in the tab's sessionStorage only).
//
// Thread-safety: the files are immutable; ServeConsole may run concurrently.
#pragma once

#include <string_view>
#include <vector>

#include "gateway/http/request.h"
#include "gateway/http/router.h"

namespace gw::http {

struct ConsoleFile {
  std::string_view name;          // "app.js": the last segment of its URL
  std::string_view content_type;  // from the name's extension
  std::string_view body;
};

// Every file of the console, in console/ order.
const std::vector<ConsoleFile>& ConsoleFiles();

// GET /console/ answers index.html, GET /console/{file} the named file; any
// other name is a 404. Adds the console's security headers.
Response ServeConsole(const Request& request);

// Adds GET /console/ and GET /console/{file} (no token needed: the files are
// the same for everyone and hold no data).
void RegisterConsole(Router& router);

}  // namespace gw::http
