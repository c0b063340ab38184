"""What the server-rendered sites (the clerks' console, the applicant's app) share: the session
cookie with its CSRF tokens, rendering a template with them, and refusals turned into pages."""
