"""shop.orders: the transform of the "API -> python -> sqlite" example.

summarize() reads the orders the http step "fetch" got from the API
(ctx.outputs["fetch"]["json"]) and returns per-day figures as the step's
output, which the next step writes to SQLite through templates such as
${steps.summarize.output.total}.
"""


def summarize(ctx, min_amount=0.0, currency="EUR"):
    orders = ctx.outputs["fetch"]["json"]["orders"]
    kept = [o for o in orders
            if o["currency"] == currency and o["amount"] >= min_amount]
    ctx.logger.info("%d of %d orders in %s of at least %s", len(kept),
                    len(orders), currency, min_amount)
    by_customer = {}
    for o in kept:
        by_customer[o["customer"]] = (by_customer.get(o["customer"], 0.0) +
                                      o["amount"])
    top = max(by_customer, key=by_customer.get) if by_customer else ""
    if ctx.is_cancelled():
        return None
    total = round(sum(o["amount"] for o in kept), 2)
    print("total %.2f %s, top customer %s" % (total, currency, top))
    return {"count": len(kept), "total": total, "currency": currency,
            "top_customer": top}
