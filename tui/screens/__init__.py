"""One screen per module: unlock, dashboard, browser, document, mark, check-in, audit."""
