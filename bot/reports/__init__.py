"""The shareable one-page report (/report): plain data in `data`, the page in `page`."""
