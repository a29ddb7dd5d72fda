"""One `cmdlet_name` (collect/model.py, beside `CmdletQuery`): the live collector runs it, the
offline collector matches and names exports by it. The two used to have their own: the live one
wrote the verb as OVAL spells it, the offline one as the content wrote it, so content with the
verb `get` was sent as `Get-X` but reported offline as `get-X`."""

from __future__ import annotations

from stigscap.evaluator.collect import model, offline, winrm
from stigscap.evaluator.collect.model import CmdletQuery, cmdlet_name
from stigscap.evaluator.collect.offline import ExportMap, collect_offline
from stigscap.evaluator.oval import objects
from stigscap.evaluator.oval.objects import CmdletObjects


def _query(verb: str, noun: str = "TransportConfig") -> CmdletQuery:
    return CmdletQuery("oval:x:obj:1", None, verb, noun, (), ("Name",))


def test_verb_as_oval_spells_it():
    assert cmdlet_name(_query("Get")) == "Get-TransportConfig"
    assert cmdlet_name(_query("get")) == "Get-TransportConfig"
    assert cmdlet_name(_query("GET", "ReceiveConnector")) == "Get-ReceiveConnector"
    assert cmdlet_name(_query("measure", "Object")) == "Measure-Object"   # an OVAL verb
    assert cmdlet_name(_query("Frobnicate")) == "Frobnicate-TransportConfig"  # unknown: as written


def test_live_and_offline_use_the_same_function():
    assert winrm.cmdlet_name is offline.cmdlet_name is objects.cmdlet_name is model.cmdlet_name


def test_offline_names_the_command_the_live_collector_would_run():
    objs = CmdletObjects()
    q = _query("get")
    objs.queries.append(q)
    objs._order.append(q)
    [got] = collect_offline(objs, ExportMap())
    assert got.flag == "not collected"
    assert got.messages == ["no export for Get-TransportConfig was given (expected a file named "
                            "Get-TransportConfig.xml or .json)"]
