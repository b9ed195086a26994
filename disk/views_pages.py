"""The disk's pages: the storages and their folders, «Доступные мне», «Корзина», the upload
endpoints used by disk.js, and the dialogs (rename, move/copy, delete, versions, sharing, public
links). Thin: every parameter through disk/forms.py, every read through selectors, every change
through services. The bytes are served by disk/views.py.

Dialogs go into the page's modal (#crm-modal-content) for htmx and are pages of their own without
JavaScript. A done change answers htmx with HX-Trigger `disk:changed` (the listing refreshes
itself) and `crm:close-modal`, or re-renders a dialog that stays open (versions, sharing, links).
"""

from __future__ import annotations

import functools
import json

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Func, Q, Value
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import dateformat, formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services, uploads
from .forms import LinkForm, ListForm, NameForm, ShareForm, TargetForm, VersionForm
from .models import File, Folder, Storage
from .selectors import EDIT, READ
from .views import _may_inline

PER_PAGE = 50
ICONS = {  # the badge a file gets by its type, when it is not an image shown as a thumbnail
    "application/pdf": "pdf", "application/msword": "doc", "application/rtf": "doc",
    "application/vnd.ms-excel": "xls", "text/csv": "xls", "application/vnd.ms-powerpoint": "ppt",
    "application/zip": "zip", "application/x-7z-compressed": "zip", "application/x-rar-compressed": "zip",
    "application/vnd.rar": "zip", "application/gzip": "zip", "text/plain": "txt",
}

BADGES = {"image": "IMG", "video": "VID", "audio": "AUD", "file": "FILE"}


def file_kind(content_type: str) -> str:
    if content_type in ICONS:
        return ICONS[content_type]
    if "wordprocessing" in content_type or "opendocument.text" in content_type:
        return "doc"
    if "spreadsheet" in content_type:
        return "xls"
    if "presentation" in content_type:
        return "ppt"
    for prefix in ("image", "video", "audio"):
        if content_type.startswith(prefix + "/"):
            return prefix
    return "file"


def _decorate(file: File) -> File:
    file.kind = file_kind(file.content_type)
    file.badge = BADGES.get(file.kind, file.kind.upper())
    file.is_picture = file.kind == "image" and _may_inline(file.content_type)
    file.previewable = file.is_picture or file.content_type == "application/pdf"
    return file


# A row's links by what they do, for files and for folders: the menu names them the same.
FILE_URLS = {"menu": "menu_file", "open": "download", "download": "download", "preview": "preview", "versions": "versions", "links": "links",
             "rename": "rename_file", "move": "move_file", "copy": "copy_file", "share": "share_file",
             "delete": "delete_file"}
FOLDER_URLS = {"menu": "menu_folder", "open": "folder", "rename": "rename_folder", "move": "move_folder", "copy": "copy_folder",
               "share": "share_folder", "delete": "delete_folder"}
SENTINEL = 987654321


def with_urls(rows: list) -> list:
    """Each row's links (`row.urls`) and its «⋯» label, made once per page: 50 rows reversing the
    ten links of their menus in the template cost half of a folder's page (BENCHMARKS.md)."""
    made: dict[str, tuple[str, str]] = {}
    label = _("Действия с «%(name)s»")  # the «⋯» button's name for screen readers, translated once
    for row in rows:
        row.menu_label = label % {"name": row.name}
        names = FILE_URLS if isinstance(row, File) else FOLDER_URLS
        urls = {}
        for key, name in names.items():
            if name not in made:
                head, _sentinel, tail = reverse(f"disk:{name}", args=[SENTINEL]).partition(str(SENTINEL))
                made[name] = (head, tail)
            head, tail = made[name]
            urls[key] = f"{head}{row.pk}{tail}"
        row.urls = urls
    return rows


class Listing:
    """Folders then files as one sequence for the Paginator: a page slices the two querysets,
    so it costs the same queries whatever the folder holds."""

    def __init__(self, folders, files, counts: tuple[int, int] | None = None):
        self.folders, self.files = folders, files
        self.n_folders = 0
        self.counts = counts  # a folder's counters (folders, files): no COUNT over its rows

    def count(self) -> int:
        if self.counts is not None:
            self.n_folders = self.counts[0]
            return sum(self.counts)
        # The Paginator counts before it slices a page: both counts in one query (UNION ALL of
        # two rows, each marked with what it counts).
        def counted(rows, what: int):
            return rows.order_by().annotate(what=Value(what), n=Func(F("pk"), function="COUNT")).values_list("what", "n")

        counts = dict(counted(self.folders, 0).union(counted(self.files, 1), all=True))
        self.n_folders = counts.get(0, 0)
        return self.n_folders + counts.get(1, 0)

    def __getitem__(self, span: slice) -> list:
        start, stop, n = span.start or 0, span.stop, self.n_folders
        rows = list(self.folders[start:stop]) if start < n else []
        rows += [_decorate(f) for f in self.files[max(start - n, 0):max(stop - n, 0)]]
        return with_urls(rows)


STRFTIME = {"d": "%d", "m": "%m", "Y": "%Y", "y": "%y", "H": "%H", "i": "%M", "s": "%S"}


@functools.cache
def _strftime(django_format: str) -> str | None:
    """Django's date format as strftime's when it has only the zero-padded numbers both write
    alike (Russian «d.m.Y H:i»), else None: strftime is 5× quicker than Django's formatter, which
    was a tenth of a folder page for 50 rows."""
    out = []
    for char in django_format:
        if char in STRFTIME:
            out.append(STRFTIME[char])
        elif char.isalpha() or char in "\\%":
            return None
        else:
            out.append(char)
    return "".join(out)


def table_rows(rows: list, searching: bool) -> list[dict]:
    """What a folder's listing shows of each row, formatted once here, as plain dicts: the
    filters, includes and model attribute lookups the template ran per row were most of the
    page's rendering (BENCHMARKS.md, «Диск»)."""
    date_format = formats.get_format("SHORT_DATETIME_FORMAT")  # the language's, looked up once
    fast = _strftime(date_format)
    table = []
    for row in rows:
        is_file = isinstance(row, File)
        moment = timezone.localtime(row.updated_at)
        table.append({
            "name": row.name, "urls": row.urls, "menu_label": row.menu_label,
            "kind": row.kind if is_file else "", "badge": row.badge if is_file else "",
            "is_picture": is_file and row.is_picture, "previewable": is_file and row.previewable,
            "size_text": filesizeformat(row.size) if is_file else "—",
            "author_text": str(row.author) if row.author_id else "—",
            "date_text": moment.strftime(fast) if fast else dateformat.format(moment, date_format),
            # A search lists the whole subtree: each found item says which folder it is in.
            "place": (row.folder.name if is_file else row.parent.name) if searching else "",
        })
    return table


SORT_COLUMNS = (("name", "", _lazy("Название")), ("size", "text-end", _lazy("Размер")),
                ("author", "d-none d-md-table-cell", _lazy("Автор")),
                ("date", "d-none d-sm-table-cell", _lazy("Изменён")))


def sort_columns(request, current: str) -> list[dict]:
    """The table's heads: each sorts by its column, again in the other direction; the query's
    other parameters stay, the page goes back to the first."""
    columns = []
    for key, css, label in SORT_COLUMNS:
        query = request.GET.copy()
        query.pop("page", None)
        query["sort"] = f"-{key}" if current == key else key
        arrow = "▲" if current == key else "▼" if current == f"-{key}" else ""
        columns.append({"key": key, "css": css, "label": label, "url": f"?{query.urlencode()}", "arrow": arrow})
    return columns


def _page(listing: Listing, number: int):
    paginator = Paginator(listing, PER_PAGE)
    page = paginator.get_page(number)
    return page, paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)


def storage_label(storage: Storage, user=None) -> str:
    if storage.kind == Storage.Kind.DEPARTMENT and storage.department_id:
        return storage.department.name
    if storage.kind == Storage.Kind.PERSONAL and user is not None and storage.owner_id != user.pk:
        # The head of sales in his manager's disk: not «Мой диск».
        return _("Диск: %(owner)s") % {"owner": storage.owner}
    return str(storage.get_kind_display())


SWITCH_SECONDS = 60


def _storages(user) -> list[dict]:
    """The switch: the user's disks, «Доступные мне», «Корзина». Kept a minute per user in the
    cache (two queries on every disk page otherwise, the department tree and the storages: a
    tenth of a folder's page, BENCHMARKS.md); a disk made meanwhile shows at once in this process
    (services bump the version) and within the minute in others. Only links: what they open is
    checked when opened."""
    def key() -> str:
        return (f"disk:switch:{user.pk}:{user.department_id}:{translation.get_language()}:"
                f"{cache.get(selectors.STORAGES_VERSION, 0)}")

    found = cache.get(key())
    if found is None:
        found = _storages_now(user)
        cache.set(key(), found, SWITCH_SECONDS)  # the version as it is after the disks it made
    return found


def _storages_now(user) -> list[dict]:
    # «Мой диск», «Общий диск» and the disk of the user's own department are made on the first
    # visit (a department above his — «Отдел продаж» for a group's manager — shows once one of
    # its own members opened the disk); later visits only read them, in one query.
    found = list(selectors.storages_for(user))
    have = {(s.kind, s.owner_id, s.department_id) for s in found}
    wanted = [((Storage.Kind.PERSONAL, user.pk, None), lambda: services.personal_storage(user)),
              ((Storage.Kind.COMMON, None, None), services.common_storage)]
    if user.department_id:
        wanted.append(((Storage.Kind.DEPARTMENT, None, user.department_id),
                       lambda: services.department_storage(user.department)))
    missing = [make for key, make in wanted if key not in have]
    for make in missing:
        make()
    if missing:
        found = list(selectors.storages_for(user))
    found.sort(key=lambda s: ({"personal": 0, "common": 1}.get(s.kind, 2), storage_label(s)))
    return [{"pk": s.pk, "root_id": s.root_id, "label": storage_label(s),
             "url": reverse("disk:folder", args=[s.root_id])} for s in found]


def _list_params(request) -> tuple[dict, list[str]]:
    form = ListForm(request.GET)
    return form.values(), form.problems()


def _crumbs(user, folder: Folder) -> tuple[list[Folder], bool]:
    """The folders above `folder` that the user may open, and whether the trail starts in
    «Доступные мне» (a folder shared from someone else's disk: his root is not the user's)."""
    crumbs = selectors.breadcrumbs(folder)
    if selectors.storage_rights(user, folder.storage):
        return crumbs, False
    from_shared = folder.storage.kind != Storage.Kind.CRM  # a record's folder is reached from its card
    # Rights never shrink going down: the first readable folder from the top opens all below it.
    for i, crumb in enumerate(crumbs):
        crumb.storage = folder.storage
        if selectors.rights(user, crumb):
            return crumbs[i:], from_shared and i > 0
    return crumbs[-1:], from_shared


def _folder_page(request, folder: Folder):
    user = request.user
    params, problems = _list_params(request)
    right = folder.user_rights  # folder_for checked them
    if params["q"]:  # a search counts its matches
        listing = Listing(*selectors.search(folder, params["q"], params["sort"]))
    else:
        listing = Listing(selectors.folder_children_ordered(folder, params["sort"]),
                          selectors.folder_files(folder, params["sort"], versions=False),
                          counts=(folder.folder_count, folder.file_count))
    page, page_range = _page(listing, params["page"])
    crumbs, from_shared = _crumbs(user, folder)
    quota = settings.DISK_USER_QUOTA
    used = selectors.usage(user) if quota else 0  # the bar is shown only under a quota
    context = {
        "folder": folder, "crumbs": crumbs, "from_shared": from_shared, "params": params, "problems": problems,
        "page": page, "page_range": page_range, "can_edit": right == EDIT, "storages": _storages(user),
        "current_storage": folder.storage_id, "section": "storage", "used": used, "quota": quota,
        "used_percent": min(100, round(used * 100 / quota)) if quota else 0,
        "storage_name": storage_label(folder.storage, user), "max_size": settings.DISK_MAX_FILE_SIZE,
        "columns": sort_columns(request, params["sort"]), "rows": table_rows(page.object_list, bool(params["q"])),
    }
    if request.htmx and request.htmx.target == "disk-list":
        return render(request, "disk/_list.html", context)
    return render(request, "disk/folder.html", context)


@require_GET
def index(request):
    """«Мой диск»: the root of the user's own disk."""
    storage = services.personal_storage(request.user)
    return _folder_page(request, selectors.folder_for(request.user, storage.root_id))


@require_GET
def folder(request, pk: int):
    return _folder_page(request, selectors.folder_for(request.user, pk))


@require_GET
def shared(request):
    """«Доступные мне»: what colleagues shared with the user (or his departments)."""
    user = request.user
    params, problems = _list_params(request)
    rows = selectors.shared_with_me(user)
    if params["q"]:
        needle = params["q"].casefold()
        rows = rows.filter(Q(file__key__contains=needle) | Q(folder__key__contains=needle))
    paginator = Paginator(rows, PER_PAGE)
    page = paginator.get_page(params["page"])
    for share in page:
        share.is_edit = share.access == EDIT
        if share.file_id:
            _decorate(share.file)
    with_urls([share.file or share.folder for share in page])
    context = {"page": page, "page_range": paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
               "params": params, "problems": problems, "storages": _storages(user), "section": "shared"}
    if request.htmx and request.htmx.target == "disk-list":
        return render(request, "disk/_shared_list.html", context)
    return render(request, "disk/shared.html", context)


def _trash_storage(user, pk: int | None) -> Storage:
    if pk is None:
        return services.personal_storage(user)
    return selectors.trash_storage(pk)


@require_GET
def trash(request, storage: int | None = None):
    """«Корзина» of one of the user's disks (his own by default)."""
    user = request.user
    found = _trash_storage(user, storage)
    folders, files = selectors.trash_all(user, found)
    params, problems = _list_params(request)
    page, page_range = _page(Listing(folders, files), params["page"])
    context = {"page": page, "page_range": page_range, "params": params, "problems": problems,
               "storages": _storages(user), "section": "trash", "trash_storage": found,
               "storage_name": storage_label(found, user),
               "trash_days": settings.DISK_TRASH_DAYS}
    if request.htmx and request.htmx.target == "disk-list":
        return render(request, "disk/_trash_list.html", context)
    return render(request, "disk/trash.html", context)


# --- Uploads (disk.js: one POST per file, field `file`; JSON answers) ---

def _json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status, json_dumps_params={"ensure_ascii": False})


def _refusal(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(exc) if str(exc) else _("Нет прав на это действие.")


def _upload(request, save):
    """Read the body through the disk's handlers (spooled, cut off at the size limit) BEFORE
    the CSRF check touches request.POST; then check the token (sent in the header by disk.js)."""
    if request.method != "POST":
        return _json_error(_("Загрузка — только методом POST."), 405)
    _data, files = uploads.parse(request)
    return csrf_protect(lambda r: _save_upload(r, files, save))(request)


def _save_upload(request, files, save):
    if getattr(request, "disk_upload_too_large", False):
        return _json_error(_("Файл больше %(size)s: такой загрузить нельзя.") % {
            "size": filesizeformat(settings.DISK_MAX_FILE_SIZE)}, 413)
    uploaded = files.get("file")
    if uploaded is None:
        return _json_error(_("Выберите файл для загрузки."), 400)
    try:
        found = save(uploaded)
    except Http404:
        return _json_error(_("Папка или файл не найдены, или к ним нет доступа."), 404)
    except PermissionDenied as exc:
        return _json_error(_refusal(exc), 403)
    except ValidationError as exc:
        return _json_error(_refusal(exc), 400)
    return JsonResponse({"id": found.pk, "name": found.name}, status=201, json_dumps_params={"ensure_ascii": False})


@csrf_exempt  # checked in _upload, after the body was read through the disk's handlers
def upload(request, pk: int):
    """A file into a folder; a file of the same name gets a new version (as Bitrix24 does)."""
    def save(uploaded):
        target = selectors.folder_for(request.user, pk)
        return services.upload(target, uploaded, uploaded.name, request.user)
    return _upload(request, save)


@csrf_exempt  # checked in _upload, after the body was read through the disk's handlers
def upload_version(request, pk: int):
    """«Загрузить новую версию» of a file, whatever the uploaded file's name."""
    def save(uploaded):
        target = selectors.file_for(request.user, pk)
        services.upload_version(target, uploaded, request.user)
        return target
    return _upload(request, save)


# --- Dialogs ---

def _dialog(request, template: str, context: dict, status: int = 200):
    if request.htmx:
        response = render(request, template, context)
        response["HX-Retarget"] = "#crm-modal-content"
        response["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "disk/dialog_page.html", {**context, "dialog_template": template}, status=status)


def _back(item: Folder | File | None) -> str:
    if item is None:
        return reverse("disk:index")
    folder = item if isinstance(item, Folder) else item.folder
    return reverse("disk:folder", args=[folder.pk])


def _done(request, message: str, back: str, *, close: bool = True):
    """A change made: htmx refreshes the listing (and closes the dialog); a page goes back."""
    if request.htmx:
        response = HttpResponse(status=200)
        response["HX-Reswap"] = "none"
        events = {"disk:changed": {"message": message}}
        if close:
            events["crm:close-modal"] = None
        response["HX-Trigger"] = json.dumps(events)
        return response
    messages.success(request, message)
    return redirect(back)


def _item(request, kind: str, pk: int, need: str = READ, deleted: bool = False) -> Folder | File:
    if kind == "folder":
        return selectors.folder_for(request.user, pk, need, deleted=deleted)
    return selectors.file_for(request.user, pk, need, deleted=deleted)


def _refused(request, template: str, context: dict, form, exc: Exception):
    """A service's refusal: its messages on the form's fields (or above them); nothing is lost."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, _refusal(exc))
    return _dialog(request, template, {**context, "form": form}, status=400)


@require_http_methods(["GET", "POST"])
def folder_create(request, pk: int):
    parent = selectors.folder_for(request.user, pk, EDIT)
    form = NameForm(request.POST or None, initial={"name": _("Новая папка")})
    context = {"parent": parent, "form": form, "back": _back(parent)}
    if request.method == "POST" and form.is_valid():
        try:
            made = services.folder_create(parent, form.cleaned_data["name"], request.user)
        except (ValidationError, PermissionDenied) as exc:
            return _refused(request, "disk/_folder_new.html", context, form, exc)
        return _done(request, _("Папка «%(name)s» создана.") % {"name": made.name}, _back(parent))
    return _dialog(request, "disk/_folder_new.html", context, status=400 if form.errors else 200)


@require_GET
def item_menu(request, kind: str, pk: int):
    """The actions of a row's «⋯», asked for when it is first opened: what the user may do with
    the item itself (rights never shrink going down a folder, so a listing's rights agree)."""
    item = _item(request, kind, pk)
    if isinstance(item, File):
        _decorate(item)
    with_urls([item])
    return render(request, "disk/_item_menu_items.html",
                  {"item": item, "can_edit": item.user_rights == EDIT})


@require_http_methods(["GET", "POST"])
def rename(request, kind: str, pk: int):
    item = _item(request, kind, pk, EDIT)
    form = NameForm(request.POST or None, initial={"name": item.name})
    context = {"item": item, "kind": kind, "form": form, "back": _back(item)}
    if request.method == "POST" and form.is_valid():
        try:
            services.rename(item, form.cleaned_data["name"], request.user)
        except (ValidationError, PermissionDenied) as exc:
            return _refused(request, "disk/_rename.html", context, form, exc)
        return _done(request, _("Переименовано: «%(name)s».") % {"name": item.name}, _back(item))
    return _dialog(request, "disk/_rename.html", context, status=400 if form.errors else 200)


def _picker(request, item: Folder | File, browse: int | None) -> dict:
    """The folder picker of «Переместить» / «Копировать»: the user's disks and the folders shared
    with him to change, and the sub-folders of the one being browsed."""
    user = request.user
    here = None
    if browse:
        try:
            here = selectors.folder_for(user, browse, EDIT)
        except Http404:
            here = None
    if here is None:
        start = item.folder if isinstance(item, File) else (item.parent or item)
        here = start if selectors.rights(user, start) == EDIT else selectors.folder_for(
            user, services.personal_storage(user).root_id)
    children = selectors.folder_children(here)
    if isinstance(item, Folder):
        children = children.exclude(pk=item.pk)
    roots = [{"label": s["label"], "pk": s["root_id"]} for s in _storages(user)]
    roots += [{"label": f.name, "pk": f.pk} for f in selectors.writable_shared_folders(user)]
    return {"here": here, "here_crumbs": selectors.breadcrumbs(here), "children": children, "roots": roots}


@require_http_methods(["GET", "POST"])
def move_or_copy(request, kind: str, pk: int, action: str):
    item = _item(request, kind, pk, EDIT if action == "move" else READ)
    form = TargetForm(request.POST or request.GET or None)
    browse = form.cleaned_data.get("to") if form.is_valid() else None
    context = {"item": item, "kind": kind, "action": action, "form": form, "back": _back(item),
               **_picker(request, item, browse)}
    if request.method == "POST":
        if not form.is_valid() or not form.cleaned_data.get("to"):
            form.add_error(None, _("Выберите папку."))
            return _dialog(request, "disk/_move.html", context, status=400)
        try:
            target = selectors.folder_for(request.user, form.cleaned_data["to"], EDIT)
            done = (services.move if action == "move" else services.copy)(item, target, request.user)
        except Http404:
            form.add_error(None, _("Эта папка не найдена или в ней нельзя ничего менять."))
            return _dialog(request, "disk/_move.html", context, status=400)
        except (ValidationError, PermissionDenied) as exc:
            return _refused(request, "disk/_move.html", context, form, exc)
        message = (_("«%(name)s» перемещено в «%(to)s».") if action == "move"
                   else _("«%(name)s» скопировано в «%(to)s».")) % {"name": done.name, "to": target.name}
        return _done(request, message, _back(item) if action == "copy" else _back(done))
    if form.errors:
        context["problems"] = [str(m) for errors in form.errors.values() for m in errors]
    return _dialog(request, "disk/_move.html", context)


@require_http_methods(["GET", "POST"])
def delete(request, kind: str, pk: int):
    item = _item(request, kind, pk, EDIT)
    context = {"item": item, "kind": kind, "back": _back(item), "trash_days": settings.DISK_TRASH_DAYS}
    if request.method == "POST":
        try:
            services.delete(item, request.user)
        except (ValidationError, PermissionDenied) as exc:
            context["error"] = _refusal(exc)
            return _dialog(request, "disk/_delete.html", context, status=400)
        return _done(request, _("«%(name)s» — в корзине.") % {"name": item.name}, _back(item))
    return _dialog(request, "disk/_delete.html", context)


def _trash_back(item: Folder | File) -> str:
    folder = item if isinstance(item, Folder) else item.folder
    return reverse("disk:trash_of", args=[folder.storage_id])


@require_POST
def restore(request, kind: str, pk: int):
    item = _item(request, kind, pk, EDIT, deleted=True)
    try:
        services.restore(item, request.user)
    except (ValidationError, PermissionDenied) as exc:
        return _trash_refusal(request, item, exc)
    return _done(request, _("«%(name)s» восстановлено.") % {"name": item.name}, _trash_back(item))


def _trash_refusal(request, item, exc):
    if request.htmx:
        return _dialog(request, "disk/_message.html", {"message": _refusal(exc), "back": _trash_back(item)})
    messages.error(request, _refusal(exc))
    return redirect(_trash_back(item))


@require_http_methods(["GET", "POST"])
def purge(request, kind: str, pk: int):
    item = _item(request, kind, pk, EDIT, deleted=True)
    context = {"item": item, "kind": kind, "back": _trash_back(item)}
    if request.method == "POST":
        try:
            services.purge(item, request.user)
        except (ValidationError, PermissionDenied) as exc:
            return _trash_refusal(request, item, exc)
        return _done(request, _("«%(name)s» удалено навсегда.") % {"name": item.name}, _trash_back(item))
    return _dialog(request, "disk/_purge.html", context)


@require_http_methods(["GET", "POST"])
def trash_empty(request, storage: int):
    found = _trash_storage(request.user, storage)
    folders, files = selectors.trash(request.user, found)
    back = reverse("disk:trash_of", args=[found.pk])
    context = {"trash_storage": found, "storage_name": storage_label(found, request.user), "back": back,
               "count": folders.count() + files.count()}
    if request.method == "POST":
        try:
            # Files first: a file deleted on its own may sit in a folder deleted later.
            for item in [*files, *folders]:
                try:
                    item.refresh_from_db()
                except type(item).DoesNotExist:
                    continue  # went with a folder deleted later and purged just before
                services.purge(item, request.user)
        except (ValidationError, PermissionDenied) as exc:
            context["error"] = _refusal(exc)
            return _dialog(request, "disk/_trash_empty.html", context, status=400)
        return _done(request, _("Корзина очищена."), back)
    return _dialog(request, "disk/_trash_empty.html", context)


@require_GET
def preview(request, pk: int):
    file = _decorate(selectors.file_for(request.user, pk))
    if not file.previewable:
        raise Http404
    return _dialog(request, "disk/_preview.html", {"file": file, "back": _back(file)})


@require_http_methods(["GET", "POST"])
def versions(request, pk: int):
    """The versions dialog; POST `number` makes that one current («Сделать текущей»)."""
    file = selectors.file_for(request.user, pk)
    context = {"file": file, "can_edit": selectors.rights(request.user, file) == EDIT, "back": _back(file),
               "max_size": settings.DISK_MAX_FILE_SIZE}
    if request.method == "POST":
        form = VersionForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationError(_("Выберите версию."))
            version = selectors.version_for(request.user, pk, form.cleaned_data["number"])
            services.version_make_current(version, request.user)
        except Http404:
            context["error"] = _("Такой версии нет.")
        except (ValidationError, PermissionDenied) as exc:
            context["error"] = _refusal(exc)
        else:
            file.refresh_from_db()
            context["notice"] = _("Версия %(n)s теперь текущая.") % {"n": version.number}
            if not request.htmx:
                messages.success(request, context["notice"])
                return redirect(reverse("disk:versions", args=[pk]))
    context["versions"] = selectors.versions(file)
    response = _dialog(request, "disk/_versions.html", context, status=400 if "error" in context else 200)
    if request.method == "POST" and "notice" in context:
        response["HX-Trigger"] = json.dumps({"disk:changed": {"message": context["notice"]}})
    return response


@require_http_methods(["GET", "POST"])
def share(request, kind: str, pk: int):
    item = _item(request, kind, pk, EDIT)
    form = ShareForm(request.POST or None, by=request.user)
    context = {"item": item, "kind": kind, "back": _back(item)}
    if request.method == "POST" and form.is_valid():
        try:
            services.share(item, request.user, user=form.cleaned_data["user"],
                           department=form.cleaned_data["department"], access_level=form.cleaned_data["access"])
        except (ValidationError, PermissionDenied) as exc:
            return _refused(request, "disk/_share.html", {**context, "shares": selectors.shares_of(item)}, form, exc)
        return _stay(request, "disk/_share.html", {**context, "form": ShareForm(by=request.user),
                                                    "shares": selectors.shares_of(item),
                                                    "notice": _("Доступ открыт.")}, _share_url(kind, pk))
    return _dialog(request, "disk/_share.html", {**context, "form": form, "shares": selectors.shares_of(item)},
                   status=400 if form.errors else 200)


def _share_url(kind: str, pk: int) -> str:
    return reverse(f"disk:share_{kind}", args=[pk])


def _stay(request, template: str, context: dict, url: str):
    """A change made in a dialog that stays open: shown again, and the listing refreshed."""
    if not request.htmx:
        messages.success(request, context["notice"])
        return redirect(url)
    response = _dialog(request, template, context)
    response["HX-Trigger"] = json.dumps({"disk:changed": {"message": context["notice"]}})
    return response


@require_POST
def unshare(request, pk: int):
    found = selectors.share_for(request.user, pk)  # 404 for whoever may not change the item
    item = found.file or found.folder
    kind = "file" if found.file_id else "folder"
    services.unshare(found, request.user)
    return _stay(request, "disk/_share.html", {"item": item, "kind": kind, "back": _back(item),
                                               "form": ShareForm(by=request.user), "shares": selectors.shares_of(item),
                                               "notice": _("Доступ закрыт.")}, _share_url(kind, item.pk))


def _links_context(request, file: File, form) -> dict:
    links = list(selectors.public_links(request.user, file))
    for link in links:
        link.url = request.build_absolute_uri(reverse("disk:public", args=[link.token]))
        link.live = link.is_live()
    return {"file": file, "form": form, "links": links, "back": _back(file)}


@require_http_methods(["GET", "POST"])
def links(request, pk: int):
    """Public links of a file: create (optional expiry and password), copy, count, revoke."""
    file = selectors.file_for(request.user, pk, EDIT)
    form = LinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.public_link_create(file, request.user, expires_at=form.expires_at(),
                                        password=form.cleaned_data["password"])
        except (ValidationError, PermissionDenied) as exc:
            return _refused(request, "disk/_links.html", _links_context(request, file, form), form, exc)
        return _stay(request, "disk/_links.html", {**_links_context(request, file, LinkForm()),
                                                    "notice": _("Ссылка создана.")}, reverse("disk:links", args=[pk]))
    return _dialog(request, "disk/_links.html", _links_context(request, file, form), status=400 if form.errors else 200)


@require_POST
def link_revoke(request, pk: int):
    link = selectors.link_for(request.user, pk)
    file = selectors.file_for(request.user, link.file_id, EDIT)
    services.public_link_revoke(link, request.user)
    return _stay(request, "disk/_links.html", {**_links_context(request, file, LinkForm()),
                                                "notice": _("Ссылка отозвана.")}, reverse("disk:links", args=[file.pk]))
