"""«Диск»: personal, common and department storages, folders, files with versions, sharing,
public links, the trash and files attached to CRM records (issue 11).

Layers as elsewhere: `models` (data), `names` (what a name may be), `blobs` (the bytes, through
Django's storage API: the `disk` alias of STORAGES), `rules` (who may read or change an item —
built on `accounts.access`), `selectors` (the only readers), `services` (the only writers),
`uploads` (the request's upload handler), `ranges` + `views` (serving the bytes).
"""
