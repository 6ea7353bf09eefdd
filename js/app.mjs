// learnloop page script: progressive enhancement only; every page works without it.
// Served as /static/app.mjs with type="module" (the CSP forbids inline scripts).
import { initAll } from './govuk-frontend.min.js';

// GOV.UK Frontend's page template sets these body classes with an inline
// <script>, which our Content-Security-Policy does not allow. Only browsers
// that run ES modules reach this line, which is exactly what the
// "govuk-frontend-supported" class means; without it initAll() does nothing.
document.body.classList.add('js-enabled', 'govuk-frontend-supported');

initAll();
