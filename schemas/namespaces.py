"""XML namespaces used across stigscap (one table, so no module spells them differently)."""

XCCDF12 = "http://checklists.nist.gov/xccdf/1.2"
XCCDF11 = "http://checklists.nist.gov/xccdf/1.1"
DS = "http://scap.nist.gov/schema/scap/source/1.2"
CAT = "urn:oasis:names:tc:entity:xmlns:xml:catalog"
XLINK = "http://www.w3.org/1999/xlink"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XS = "http://www.w3.org/2001/XMLSchema"
XML = "http://www.w3.org/XML/1998/namespace"
XHTML = "http://www.w3.org/1999/xhtml"
XINCLUDE = "http://www.w3.org/2001/XInclude"
DSIG = "http://www.w3.org/2000/09/xmldsig#"
DSIG11 = "http://www.w3.org/2009/xmldsig11#"
DSIG_FILTER2 = "http://www.w3.org/2002/06/xmldsig-filter2"  # also that transform's Algorithm
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"         # ec:InclusiveNamespaces; the algorithm
TMSAD = "http://scap.nist.gov/schema/xml-dsig/1.0"

OVAL_COMMON = "http://oval.mitre.org/XMLSchema/oval-common-5"
OVAL_DEF = "http://oval.mitre.org/XMLSchema/oval-definitions-5"
OVAL_SC = "http://oval.mitre.org/XMLSchema/oval-system-characteristics-5"
OVAL_RES = "http://oval.mitre.org/XMLSchema/oval-results-5"
OVAL_VAR = "http://oval.mitre.org/XMLSchema/oval-variables-5"
OVAL_DIR = "http://oval.mitre.org/XMLSchema/oval-directives-5"
WIN_DEF = "http://oval.mitre.org/XMLSchema/oval-definitions-5#windows"
WIN_SC = "http://oval.mitre.org/XMLSchema/oval-system-characteristics-5#windows"
IND_DEF = "http://oval.mitre.org/XMLSchema/oval-definitions-5#independent"

CPE_DICT = "http://cpe.mitre.org/dictionary/2.0"
CPE_LANG = "http://cpe.mitre.org/language/2.0"
CPE23_DICT_EXT = "http://scap.nist.gov/schema/cpe-extension/2.3"

OCIL = "http://scap.nist.gov/schema/ocil/2.0"
OCIL_2 = "http://scap.nist.gov/schema/ocil/2"        # read as OCIL 2.0 too, never written
OCIL_ANY = "http://scap.nist.gov/schema/ocil/"       # what every OCIL version's namespace starts with

ARF = "http://scap.nist.gov/schema/asset-reporting-format/1.1"
CORE = "http://scap.nist.gov/schema/reporting-core/1.1"
AI = "http://scap.nist.gov/schema/asset-identification/1.1"
CON = "http://scap.nist.gov/schema/scap/constructs/1.2"
ARF_REL = "http://scap.nist.gov/specifications/arf/vocabulary/relationships/1.0#"
ARF_REL_OSCAP = "http://scap.nist.gov/vocabulary/arf/relationships/1.0#"  # what OpenSCAP writes

CLIXML = "http://schemas.microsoft.com/powershell/2004/04"   # PowerShell Export-Clixml

CCI_SYSTEM = "http://cyber.mil/cci"
CCI_SYSTEM_LEGACY = "http://iase.disa.mil/cci"
OVAL_CHECK_SYSTEM = OVAL_DEF

NSMAP_ALL = {
    "xccdf": XCCDF12, "xccdf11": XCCDF11, "ds": DS, "cat": CAT, "xlink": XLINK, "dc": DC,
    "xsi": XSI, "dsig": DSIG, "oval": OVAL_COMMON, "oval-def": OVAL_DEF, "oval-sc": OVAL_SC,
    "oval-res": OVAL_RES, "oval-var": OVAL_VAR, "win-def": WIN_DEF, "win-sc": WIN_SC,
    "ind-def": IND_DEF, "cpe-dict": CPE_DICT, "cpe-lang": CPE_LANG, "arf": ARF, "core": CORE,
    "ai": AI, "con": CON, "tmsad": TMSAD,
}


def qname(namespace: str, local: str) -> str:
    """`{namespace}local`: a tag or attribute name as lxml spells it (Clark notation)."""
    return f"{{{namespace}}}{local}"
