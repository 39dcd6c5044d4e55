// teiten's API documentation (/api/docs): Swagger UI over this server's OpenAPI document.
// Both come from this server (CSP script-src 'self', no inline script); the document's
// URL is in a data- attribute. "Try it out" asks this origin: the browser adds the
// sign-in cookie, and Swagger UI the token given to "Authorize".
"use strict";

(() => {
  const body = document.body;
  window.ui = SwaggerUIBundle({
    url: body.dataset.openapi,
    dom_id: "#swagger-ui",
    deepLinking: true,
    queryConfigEnabled: false, // never a document named in the page's URL
    validatorUrl: null, // never a badge from validator.swagger.io
    displayRequestDuration: true,
    onComplete: () => {
      body.dataset.ready = "true";
    },
  });
})();
