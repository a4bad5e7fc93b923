"""Dispatch of CloudStack API calls: signature check, parameter processing,
command registry, calling context, and the 4.2 response envelopes.

A command family module registers its commands with the `command`
decorator; `ApiServer.handle` runs one request (already decoded into a
name -> first value mapping) and returns ``(status, headers, body)``.
"""

import calendar
import hmac
import json
import logging
import re
import threading
import time
from collections import OrderedDict

from cloudbridge.cloudstack.signing import sign
from cloudbridge.simulator import errors
from cloudbridge.simulator.errors import CSError

log = logging.getLogger("cloudbridge.simulator")

CLOUDSTACK_VERSION = "4.2.1"
DEFAULT_PAGE_SIZE = 500
JSON_CONTENT_TYPE = "text/javascript; charset=UTF-8"
XML_CONTENT_TYPE = "text/xml; charset=UTF-8"

# ---------------------------------------------------------------------------
# Results a command returns


class ListResult:
    def __init__(self, objname, items, count=None):
        self.objname = objname
        self.items = list(items)
        self.count = len(self.items) if count is None else count


class ObjectResult:
    def __init__(self, objname, obj):
        self.objname = objname
        self.obj = obj


class SuccessResult:
    """Sync success-only answer; 4.2 writes the flag as the string "true"."""

    def __init__(self, displaytext=None):
        self.displaytext = displaytext


class AsyncResult:
    """Immediate answer of an async command: jobid (and id for creates)."""

    def __init__(self, jobid, id=None):
        self.jobid = jobid
        self.id = id


class RawResult:
    """An object serialized as it is under the response name (async job
    responses and create-command responses in 4.2)."""

    def __init__(self, obj):
        self.obj = obj


# ---------------------------------------------------------------------------
# Command registry

COMMANDS = {}

LIST_PARAMS = OrderedDict([
    ("account", "str"), ("domainid", "uuid:domains"), ("isrecursive", "bool"),
    ("listall", "bool"), ("projectid", "uuid:projects"), ("keyword", "str"),
    ("page", "int"), ("pagesize", "int"),
])

# Java class names shown in async jobs (`cmd`).
_CMD_PACKAGE = "org.apache.cloudstack.api.command.user."


class Command:
    def __init__(self, name, func, params, is_async, response, admin, listing, cmd_class):
        self.name = name
        self.func = func
        self.is_async = is_async
        self.response_name = response or (name.lower() + "response")
        self.admin = admin
        self.listing = listing
        self.cmd_class = cmd_class
        spec = OrderedDict()
        for pname, ptype in (params or {}).items():
            required = ptype.endswith("!")
            spec[pname] = (ptype.rstrip("!"), required)
        if listing:
            for pname, ptype in LIST_PARAMS.items():
                spec.setdefault(pname, (ptype, False))
        self.spec = spec

    @property
    def short_name(self):
        # ParamProcessWorker: getCommandName() minus the 8 characters of
        # "response" (which also cuts "revokesecuritygroupingress").
        return self.response_name[:-8]


def command(name, params=None, is_async=False, response=None, admin=False,
            listing=False, cmd_class=None):
    """Register a command handler ``func(ctx, p)``.

    ``params`` maps lower-case names to a type: ``str``, ``int``, ``long``,
    ``bool``, ``list``, ``map``, ``date``, ``uuid:<table>`` or
    ``uuids:<table>`` (comma list); a trailing ``!`` marks it required. The
    order is the order in which the server checks them.
    """

    def deco(func):
        COMMANDS[name] = Command(name, func, params, is_async, response, admin,
                                 listing, cmd_class)
        return func

    return deco


# ---------------------------------------------------------------------------
# Formatting helpers


def now_ts():
    return time.time()


def fmt_date(ts):
    """yyyy-MM-dd'T'HH:mm:ssZ in UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(ts))


_EXPIRES_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})$")


def parse_expires(value):
    """Parse yyyy-MM-dd'T'HH:mm:ssZ (``+0000``; also ``+00:00`` and ``Z``);
    returns epoch seconds or None."""
    m = _EXPIRES_RE.match(value or "")
    if not m:
        return None
    y, mo, d, h, mi, s, tz = m.groups()
    try:
        ts = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(s), 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    if tz != "Z":
        sign_ = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        ts -= sign_ * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return ts


def _dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def render_json(response_name, result):
    """Serialize like 4.2's ApiResponseSerializer.toJSONSerializedString."""
    head = '{ "%s" : ' % response_name
    if isinstance(result, ListResult):
        if result.items:
            parts = ['{ "count":%d ,"%s" : [  ' % (result.count, result.objname)]
            parts.append(", ".join(_dumps(item) for item in result.items))
            parts.append(" ] }")
            body = "".join(parts)
        else:
            body = "{ }"
        return head + body + " }"
    if isinstance(result, SuccessResult):
        return head + '{ "success" : "true"} ' + " }"
    if isinstance(result, CSError):
        return head + _dumps(error_body(result)) + " }"
    if isinstance(result, AsyncResult):
        obj = OrderedDict()
        if result.id is not None:
            obj["id"] = result.id
        obj["jobid"] = result.jobid
        return head + _dumps(obj) + " }"
    if isinstance(result, RawResult):
        return head + _dumps(result.obj) + " }"
    if isinstance(result, ObjectResult):
        return head + ' { "%s" : %s } ' % (result.objname, _dumps(result.obj)) + " }"
    raise TypeError("unknown result %r" % (result,))


def error_body(err):
    body = OrderedDict()
    body["uuidList"] = []
    body["errorcode"] = err.code
    if err.cserrorcode is not None:
        body["cserrorcode"] = err.cserrorcode
    body["errortext"] = err.text
    return body


def _xml_escape(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _xml_value(name, value, out):
    if isinstance(value, list):
        for item in value:
            _xml_value(name, item, out)
        return
    out.append("<%s>" % name)
    if isinstance(value, dict):
        for key, sub in value.items():
            _xml_value(key, sub, out)
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    else:
        out.append(_xml_escape(str(value)))
    out.append("</%s>" % name)


def render_xml(response_name, result):
    """A plain XML rendering for requests without response=json."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<%s cloud-stack-version="%s">' % (response_name, CLOUDSTACK_VERSION)]
    if isinstance(result, ListResult):
        if result.items:
            out.append("<count>%d</count>" % result.count)
        for item in result.items:
            _xml_value(result.objname, item, out)
    elif isinstance(result, SuccessResult):
        out.append("<success>true</success>")
    elif isinstance(result, CSError):
        for key, value in error_body(result).items():
            if key != "uuidList":
                _xml_value(key, value, out)
    elif isinstance(result, AsyncResult):
        if result.id is not None:
            out.append("<id>%s</id>" % result.id)
        out.append("<jobid>%s</jobid>" % result.jobid)
    elif isinstance(result, RawResult):
        for key, value in result.obj.items():
            _xml_value(key, value, out)
    elif isinstance(result, ObjectResult):
        _xml_value(result.objname, result.obj, out)
    out.append("</%s>" % response_name)
    return "".join(out)


# ---------------------------------------------------------------------------
# Calling context


class Ctx:
    """What a command handler or job step sees: the model, the caller and
    helpers for ownership, listing and async jobs."""

    def __init__(self, sim, account, user, command=None):
        self.sim = sim
        self.model = sim.model
        self.jobs = sim.jobs
        self.account = account
        self.user = user
        self.command = command
        self.current_job = None

    @property
    def is_admin(self):
        return self.account["accounttype"] in (1, 2)

    # --- ownership -------------------------------------------------------

    def caller_label(self):
        return "Acct[%s-%s]" % (self.account["id"], self.account["name"])

    def check_access(self, entity, label):
        """PermissionDenied (531) unless the caller owns ``entity`` or is an
        admin."""
        if self.is_admin:
            return
        if entity.get("accountid") != self.account["id"]:
            raise errors.denied("%s does not have permission to operate with resource %s"
                                % (self.caller_label(), label))

    def find_account(self, name, domainid=None):
        domainid = domainid or self.model.root_domain_id
        for acct in self.model.accounts.values():
            if acct["name"] == name and acct["domainid"] == domainid:
                return acct
        return None

    def owner(self, p):
        """The account a create command acts for (``account``+``domainid``
        for admins; the caller otherwise)."""
        name = p.get("account")
        if name is None or name == self.account["name"]:
            return self.account
        if not self.is_admin:
            raise errors.denied("%s does not have permission to operate within domain id=%s"
                                % (self.caller_label(), self.account["domainid"]))
        if p.get("domainid") is None:
            raise errors.invalid("Can't list resources by account name without domain id; "
                                 "please specify domainid together with account")
        acct = self.find_account(name, p.get("domainid"))
        if acct is None:
            raise errors.invalid("Unable to find account %s in domain id=%s"
                                 % (name, p.get("domainid")))
        return acct

    def scope(self, p):
        """Predicate on an entity's ``accountid`` for list commands."""
        name = p.get("account")
        if name is not None:
            acct = self.owner(p) if name != self.account["name"] else self.account
            acct_id = acct["id"]
            return lambda e: e.get("accountid") == acct_id
        if self.is_admin and (p.get("listall") or p.get("domainid")):
            return lambda e: True
        own = self.account["id"]
        return lambda e: e.get("accountid") == own

    # --- listing --------------------------------------------------------

    def page(self, objname, items, p):
        items = list(items)
        keyword = p.get("keyword")
        if keyword:
            kw = keyword.lower()
            items = [i for i in items
                     if kw in str(i.get("name", "")).lower()
                     or kw in str(i.get("displayname", "") or i.get("displaytext", "")).lower()]
        count = len(items)
        pagesize = p.get("pagesize")
        page = p.get("page")
        if pagesize is not None:
            if pagesize > DEFAULT_PAGE_SIZE:
                raise errors.invalid("Page size can't exceed max allowed page size value: %d"
                                     % DEFAULT_PAGE_SIZE)
            if pagesize < 1 and pagesize != -1:
                raise errors.invalid("Page size can't be less than 1")
        size = DEFAULT_PAGE_SIZE if pagesize is None else pagesize
        if size != -1:
            start = 0
            if page is not None and page > 0:
                start = size * (page - 1)
            items = items[start:start + size]
        return ListResult(objname, items, count)

    # --- jobs ------------------------------------------------------------

    def submit(self, kind, instancetype=None, instanceid=None, args=None):
        return self.jobs.submit(self, kind, instancetype, instanceid, args or {})

    def job_decoration(self, instancetype, instanceid, obj):
        """Add jobid/jobstatus 0 to ``obj`` while a job works on it."""
        jobid = self.jobs.pending_job(instancetype, instanceid)
        if jobid:
            obj["jobid"] = jobid
            obj["jobstatus"] = 0
        return obj


# ---------------------------------------------------------------------------
# Parameter processing

_MAP_RE = re.compile(r"^([^\[\]]+)\[(\d+)\]\.([^\[\]]+)$")


def _missing(cmd, name):
    return CSError(errors.PARAM_ERROR, "Unable to execute API command %s due to missing "
                   "parameter %s" % (cmd.short_name, name))


def _invalid_value(cmd, name, value):
    return CSError(errors.PARAM_ERROR, "Unable to execute API command %s due to invalid value %s "
                   "for parameter %s" % (cmd.short_name, value, name))


def _unknown_uuid(cmd, name, value):
    return CSError(errors.PARAM_ERROR,
                   "Unable to execute API command %s due to invalid value. Invalid parameter %s "
                   "value=%s due to incorrect long value format, or entity does not exist or due "
                   "to incorrect parameter annotation for the field in api cmd class."
                   % (cmd.short_name, name, value))


def collect_maps(params):
    """``name[i].field=value`` parameters -> {name: [ {field: value}, ... ]}
    in index order; 430 for a malformed one."""
    maps = {}
    for key, value in params.items():
        if "[" not in key and "]" not in key:
            continue
        m = _MAP_RE.match(key)
        if not m:
            raise CSError(errors.MALFORMED_PARAMETER_ERROR,
                          "Unable to decode parameter %s; if specifying an object array, please "
                          "use parameter[index].field=XXX, e.g. userGroupList[0].group=httpGroup"
                          % key)
        name, index, field = m.group(1), int(m.group(2)), m.group(3)
        maps.setdefault(name, {}).setdefault(index, {})[field] = value
    return {name: [entries[i] for i in sorted(entries)] for name, entries in maps.items()}


def process_params(cmd, params, model):
    """Check and convert the (lower-cased) parameters of ``cmd``."""
    maps = collect_maps(params)
    out = {}
    for name, (ptype, required) in cmd.spec.items():
        if ptype == "map":
            value = maps.get(name)
            if not value:
                if required:
                    raise _missing(cmd, name)
                continue
            out[name] = value
            continue
        value = params.get(name)
        if value is None or (value == "" and ptype != "str"):
            if required:
                raise _missing(cmd, name)
            continue
        if ptype == "str":
            out[name] = value
        elif ptype in ("int", "long"):
            try:
                out[name] = int(value.strip())
            except ValueError:
                raise _invalid_value(cmd, name, value)
        elif ptype == "bool":
            out[name] = value.strip().lower() == "true"
        elif ptype == "list":
            out[name] = [v.strip() for v in value.split(",") if v.strip()]
        elif ptype == "date":
            out[name] = value
        elif ptype.startswith("uuid:"):
            table = model.table(ptype[5:])
            if value not in table:
                raise _unknown_uuid(cmd, name, value)
            out[name] = value
        elif ptype.startswith("uuids:"):
            table = model.table(ptype[6:])
            values = [v.strip() for v in value.split(",") if v.strip()]
            for v in values:
                if v not in table:
                    raise _unknown_uuid(cmd, name, v)
            out[name] = values
        else:  # pragma: no cover - a typo in a spec
            raise AssertionError("bad parameter type %s" % ptype)
    return out


# ---------------------------------------------------------------------------
# The request handler


def _lower_first(params):
    out = {}
    for key, value in params.items():
        out.setdefault(key.lower(), value)
    return out


class ApiServer:
    """Runs requests against a simulator (model + jobs + accounts)."""

    def __init__(self, sim):
        self.sim = sim
        self._calls_lock = threading.Lock()
        self.calls = []

    MAX_CALLS = 100000

    def record(self, command, params, apikey, status):
        entry = {"command": command, "params": params, "apikey": apikey, "status": status}
        with self._calls_lock:
            self.calls.append(entry)
            if len(self.calls) > self.MAX_CALLS:  # a long-running demo: keep the newest
                del self.calls[:len(self.calls) - self.MAX_CALLS]

    def handle(self, params, method="GET"):
        """``params``: raw name -> first value. Returns (status, headers, body)."""
        start = time.time()
        lowered = _lower_first(params)
        want_json = (lowered.get("response") or "").lower() == "json"
        command = params.get("command")
        apikey = lowered.get("apikey")
        cmd = COMMANDS.get(command) if command is not None else None
        response_name = cmd.response_name if cmd else "errorresponse"
        account_name = None
        x_description = True
        try:
            if command is None:
                raise CSError(400, "no command specified", None)
            user, account = self._authenticate(params, lowered)
            account_name = account["name"]
            if cmd is None:
                raise CSError(errors.UNAUTHORIZED, errors.AUTH_FAILED_TEXT, None)
            if cmd.admin and account["accounttype"] not in (1, 2):
                raise CSError(errors.UNAUTHORIZED, errors.AUTH_FAILED_TEXT, None)
            result = self._dispatch(cmd, lowered, user, account)
            status = 200
        except CSError as err:
            result = err
            status = err.code
            if err.code == errors.UNAUTHORIZED or err.code == 400:
                x_description = False
        if want_json:
            body = render_json(response_name, result)
            ctype = JSON_CONTENT_TYPE
        else:
            body = render_xml(response_name, result)
            ctype = XML_CONTENT_TYPE
        headers = [("Content-Type", ctype)]
        if isinstance(result, CSError) and x_description:
            headers.append(("X-Description", _header_safe(result.text)))
        logged = {k: v for k, v in lowered.items() if k != "signature"}
        self.record(command, logged, apikey, status)
        log.info("command=%s account=%s method=%s status=%d time=%dms", command,
                 account_name or "-", method, status, int((time.time() - start) * 1000))
        return status, headers, body.encode("utf-8")

    def _authenticate(self, params, lowered):
        fail = CSError(errors.UNAUTHORIZED, errors.AUTH_FAILED_TEXT, None)
        apikey = lowered.get("apikey")
        signature = lowered.get("signature")
        if not apikey or not signature:
            raise fail
        model = self.sim.model
        with model.lock:
            user = model.user_by_apikey(apikey)
            if user is None or not user.get("secretkey"):
                raise fail
            account = model.accounts.get(user["accountid"])
            if (account is None or account.get("state") != "enabled"
                    or user.get("state") != "enabled"):
                raise fail
            secret = user["secretkey"]
        version = lowered.get("signatureversion")
        if version == "3":
            expires = parse_expires(lowered.get("expires"))
            if expires is None or expires < time.time():
                raise fail
        expected = sign(params, secret)
        if not hmac.compare_digest(expected.encode("utf-8"), signature.encode("utf-8")):
            raise fail
        return user, account

    def _dispatch(self, cmd, lowered, user, account):
        sim = self.sim
        sim.jobs.tick()
        model = sim.model
        with model.lock:
            ctx = Ctx(sim, account, user, cmd)
            try:
                p = process_params(cmd, lowered, model)
                result = cmd.func(ctx, p)
            except CSError:
                model.save_if_dirty()
                raise
            except Exception:  # a simulator bug: answer like the server would
                log.exception("error in %s", cmd.name)
                model.save_if_dirty()
                raise CSError(errors.INTERNAL_ERROR, "Internal error executing command, please "
                              "contact your system administrator")
            model.save_if_dirty()
        if cmd.is_async:
            sim.jobs.wake()
        return result


def _header_safe(text):
    return re.sub(r"[\r\n]+", " ", text).encode("latin-1", "replace").decode("latin-1")
