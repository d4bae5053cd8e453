"""Routes of 居民自治: staff pages, residents' (owners') phone pages, and the JSON API."""
