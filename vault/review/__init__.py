"""Review of checked-in documents: safe previews, text extraction for search, e-mail evidence.

`preview.preview` shows a document without ever handing it to a viewer: text escaped, e-mail as
headers and parts, everything else as hex. `extract.Extractor` pulls text out of documents for the
search index in sandboxed worker processes. The `dkim` modules verify checked-in mail against
archived keys. All of them read hostile bytes; none writes anything to disk, fetches anything or
renders anything.
"""
