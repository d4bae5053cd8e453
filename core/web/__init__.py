"""The web shell: request context, rendering, guards, layout pages, htmx helpers, errors, i18n."""
