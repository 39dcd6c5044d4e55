"""Small KEV- and NVD-shaped feeds, written per test into tmp_path.

Shapes follow the published schemas: CISA's known_exploited_vulnerabilities_schema.json
(catalogVersion, dateReleased, count, vulnerabilities[] with the eight required fields)
and the NVD CVE API 2.0 response (format, version, timestamp, vulnerabilities[].cve).
"""

from __future__ import annotations

# A CVE id no curated entry has, used to see imports add knowledge (synthetic).
NEW_RDP_CVE = "CVE-2099-10001"
NEW_ES_CVE = "CVE-2099-10002"


def kev_entry(cve, vendor, product, name, description="", added="2021-11-03"):
    return {
        "cveID": cve,
        "vendorProject": vendor,
        "product": product,
        "vulnerabilityName": name,
        "dateAdded": added,
        "shortDescription": description or f"{vendor} {product} contains a vulnerability.",
        "requiredAction": "Apply updates per vendor instructions.",
        "dueDate": "2022-05-03",
        "knownRansomwareCampaignUse": "Unknown",
        "notes": f"https://nvd.nist.gov/vuln/detail/{cve}",
        "cwes": [],
    }


def kev_catalog(entries):
    return {
        "title": "CISA Catalog of Known Exploited Vulnerabilities",
        "catalogVersion": "2026.11.20",
        "dateReleased": "2026-11-20T15:04:05.000Z",
        "count": len(entries),
        "vulnerabilities": entries,
    }


def good_kev():
    return kev_catalog(
        [
            kev_entry("CVE-2017-17215", "Huawei", "HG532", "Huawei HG532 Remote Code Execution"),
            kev_entry(
                "CVE-2014-8361",
                "Realtek",
                "SDK",
                "Realtek SDK Improper Input Validation Vulnerability",
                "Realtek SDK contains an improper input validation vulnerability in the "
                "miniigd SOAP service that allows remote code execution.",
                added="2023-09-18",
            ),
            kev_entry(
                "CVE-2020-14882",
                "Oracle",
                "WebLogic Server",
                "Oracle WebLogic Server Remote Code Execution Vulnerability",
            ),
            kev_entry(
                "CVE-2018-14847",
                "MikroTik",
                "RouterOS",
                "MikroTik Router OS Directory Traversal Vulnerability",
                added="2021-12-01",
            ),
            kev_entry(
                NEW_RDP_CVE,
                "Microsoft",
                "Windows",
                "Microsoft Windows Remote Desktop Services Remote Code Execution Vulnerability",
            ),
            # Same vendors, unrelated products: must not link.
            kev_entry(
                "CVE-2017-11882", "Microsoft", "Office", "Microsoft Office Memory Corruption"
            ),
            kev_entry("CVE-2021-44228", "Apache", "Log4j2", "Apache Log4j2 Remote Code Execution"),
        ]
    )


def cpe(vendor, product, part="a", vulnerable=True):
    return {
        "vulnerable": vulnerable,
        "criteria": f"cpe:2.3:{part}:{vendor}:{product}:-:*:*:*:*:*:*:*",
        "matchCriteriaId": "00000000-0000-0000-0000-000000000000",
    }


def nvd_cve(cve, published, description, *matches, cisa_name=None):
    record = {
        "id": cve,
        "sourceIdentifier": "cve@mitre.org",
        "published": published,
        "lastModified": "2026-06-17T01:10:32.077",
        "vulnStatus": "Modified",
        "descriptions": [{"lang": "en", "value": description}],
        "configurations": [
            {"nodes": [{"operator": "OR", "negate": False, "cpeMatch": list(matches)}]}
        ],
        "references": [
            {"url": f"https://nvd.nist.gov/vuln/detail/{cve}", "source": "cve@mitre.org"}
        ],
    }
    if cisa_name:
        record["cisaVulnerabilityName"] = cisa_name
    return {"cve": record}


def nvd_feed(items):
    return {
        "resultsPerPage": len(items),
        "startIndex": 0,
        "totalResults": len(items),
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": "2026-11-27T08:00:00.000",
        "vulnerabilities": items,
    }


def good_nvd():
    return nvd_feed(
        [
            nvd_cve(
                "CVE-2017-17215",
                "2018-03-20T15:29:00.203",
                "Huawei HG532 with some customized versions has a remote code execution "
                "vulnerability.",
                cpe("huawei", "hg532_firmware", "o"),
                cpe("huawei", "hg532", "h", vulnerable=False),
            ),
            nvd_cve(
                "CVE-2018-1000115",
                "2018-03-05T14:29:00.203",
                "Memcached version 1.5.5 contains an amplification vulnerability in UDP.",
                cpe("memcached", "memcached"),
            ),
            nvd_cve(
                "CVE-2017-0144",
                "2017-03-17T00:59:04.010",
                "The SMBv1 server in Microsoft Windows allows remote code execution.",
                cpe("microsoft", "server_message_block"),
                cpe("microsoft", "windows_7", "o", vulnerable=False),
            ),
            nvd_cve(
                NEW_ES_CVE,
                "2099-01-02T10:00:00.000",
                "A synthetic Elasticsearch flaw used by teiten's tests.",
                cpe("elastic", "elasticsearch"),
            ),
            # Only a non-vulnerable Windows platform and no keyword: no link.
            nvd_cve(
                "CVE-2020-0601",
                "2020-01-14T23:15:00.000",
                "A spoofing vulnerability exists in the way Windows CryptoAPI validates "
                "certificates.",
                cpe("microsoft", "windows_10", "o", vulnerable=False),
            ),
        ]
    )
