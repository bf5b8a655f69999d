"""Contributing lessons from the browser, and the way from draft to published."""
