"""Probe the simulator with HPE's own Aruba Central SDK (pycentral 1.4.3, unmodified).

    pip install pycentral==1.4.3
    mspform sim serve --listen 127.0.0.1:18080 --aruba-listen 127.0.0.1:18443 &
    curl -XPOST localhost:18080/_sim/aruba/switches -H 'content-type: application/json' -d '{"limit_per_second":0}'
    python3 tools/pycentral-probe.py http://127.0.0.1:18443

pycentral keeps only the scheme and host of its base URL, hence --aruba-listen.
Every line should start with OK. Not part of `cargo test` (it needs PyPI).
"""
import sys, time, logging
from pycentral.base import ArubaCentralBase
from pycentral.msp import MSP
from pycentral.licensing import Subscriptions, AutoLicense
from pycentral.monitoring import Sites
logging.disable(logging.CRITICAL)
base = sys.argv[1]
conn = ArubaCentralBase(central_info={"base_url": base, "token": {"access_token": "sim-token"}}, ssl_verify=False)
msp, subs, sites = MSP(), Subscriptions(), Sites()
ok = lambda r, what: (print("OK  " if r and r.get("code") in (200, 201) else "BAD ", what, r if not (r and r.get("code") in (200,201)) else "")) 
custs = msp.get_all_customers(conn); print("customers:", len(custs) if custs is not None else custs)
body = {"customer_name": "Probe Co", "country_name": "US", "street_address": "1 Main", "city": "Austin", "state": "Texas", "zip_postal_code": "73301", "description": "probe", "lock_msp_ssids": False, "group_name": "retail_group"}
r = msp.create_customer(conn, body); ok(r, "create_customer")
cid = None
for i in range(10):
    cid = msp.get_customer_id(conn, customer_name="Probe Co")
    if cid: break
    time.sleep(0.2)
print("customer id:", cid)
print("msp id:", msp.get_msp_id(conn))
body["description"] = "updated"
ok(msp.update_customer(conn, customer_details=body, customer_id=cid), "update_customer")
ok(msp.get_customer_details(conn, customer_id=cid), "get_customer_details")
devs = msp.get_msp_all_devices_and_subscriptions(conn); print("msp devices:", len(devs) if devs else devs)
ok(msp.assign_devices_to_customers(conn, devices=[{"serial": "AP0000100", "mac": "20:4C:03:00:00:64"}, {"serial": "AP0000101", "mac": "20:4C:03:00:00:65"}], customer_id=cid), "assign_devices_to_customers")
# A move lands asynchronously: as the official onboarding workflow does, re-poll
# the customer's device list until both devices show before licensing them.
for i in range(50):
    r = msp.get_customer_devices_and_subscriptions(conn, customer_id=cid)
    if r and r.get("code") == 200 and r["msg"]["deviceList"]["total_devices"] >= 2: break
    time.sleep(0.05)
ok(r, "get_customer_devices (the move landed after %d re-poll(s))" % i)
ok(subs.assign_device_subscription(conn, ["AP0000100", "AP0000101"], ["ADVANCED_AP"]), "assign_device_subscription")
ok(subs.unassign_device_subscription(conn, ["AP0000101"], ["ADVANCED_AP"]), "unassign_device_subscription")
ok(AutoLicense().assign_msp_autolicense_services(conn, ["FOUNDATION_AP"], include_customers=[cid]), "assign_msp_autolicense_services")
ok(AutoLicense().get_msp_autolicense_services(conn, cid), "get_msp_autolicense_services")
ok(AutoLicense().disable_msp_autolicense_services(conn, ["FOUNDATION_AP"], include_customers=[cid]), "disable_msp_autolicense_services")
conn.central_info.setdefault("headers", {})
# sites are tenant scoped: pycentral passes extra headers through command(headers=...)
r = conn.command("POST", "/central/v2/sites", apiData={"site_name": "Probe HQ", "site_address": {"address": "1 Main", "city": "Austin", "state": "Texas", "country": "United States", "zipcode": "73301"}}, headers={"TenantID": cid, "Content-Type": "application/json", "Accept": "application/json"}); ok(r, "create site (TenantID)")
sid = r["msg"].get("site_id") if r and isinstance(r.get("msg"), dict) else None
r = conn.command("GET", "/central/v2/sites", apiParams={"limit": 100, "offset": 0}, headers={"TenantID": cid, "Content-Type": "application/json", "Accept": "application/json"}); ok(r, "list sites"); print("  sites:", r["msg"].get("count") if r else None)
r = conn.command("POST", "/central/v2/sites/associations", apiData={"site_id": sid, "device_type": "IAP", "device_ids": ["AP0000100"]}, headers={"TenantID": cid, "Content-Type": "application/json", "Accept": "application/json"}); ok(r, "associate"); print("  ", r and r["msg"])
r = conn.command("DELETE", "/central/v2/sites/associations", apiData={"site_id": sid, "device_type": "IAP", "device_ids": ["AP0000100"]}, headers={"TenantID": cid, "Content-Type": "application/json", "Accept": "application/json"}); ok(r, "unassociate")
r = conn.command("DELETE", f"/central/v2/sites/{sid}", headers={"TenantID": cid, "Content-Type": "application/json", "Accept": "application/json"}); ok(r, "delete site")
msp_id = msp.get_msp_id(conn)
r = conn.command("PUT", f"/msp_api/v1/customers/{msp_id}/devices", apiData={"devices": [{"serial": "AP0000100", "mac": "20:4C:03:00:00:64"}]}); ok(r, "move device back to MSP (pycentral unassign_devices_from_customers crashes in its own log line)")
for i in range(50):  # the move back lands asynchronously too
    d = [x for x in msp.get_msp_all_devices_and_subscriptions(conn) if x["serial"] == "AP0000100"][0]
    if d.get("customer_id") in (None, "", msp_id): break
    time.sleep(0.05)
print("  AP0000100 after move back:", d.get("customer_id"), d.get("services"))
ok(msp.delete_customer(conn, customer_id=cid), "delete_customer")
print("sites (MSP scope, via Sites class):", sites.get_sites(conn)["code"])
