"""Quote an order: a stand-alone script whose form shows every kind of field."""

from typing import Literal, Optional

PRICES = {"standard": 12.0, "premium": 20.0}
SHIPPING = {"eu": 5.0, "us": 7.5, "apac": 11.0}


def main(
    quantity: int,
    express: bool,
    region: Literal["eu", "us", "apac"],
    skus: list[str],
    tier: Literal["standard", "premium"] = "standard",
    coupon: Optional[str] = None,
) -> dict:
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    subtotal = quantity * PRICES[tier] * max(len(skus), 1)
    shipping = SHIPPING[region] * (2 if express else 1)
    discount = round(subtotal * 0.1, 2) if coupon == "WELCOME10" else 0.0
    print(f"{quantity} x {len(skus)} sku(s) at {tier} price, shipping to {region}")
    return {"skus": skus, "subtotal": subtotal, "shipping": shipping, "discount": discount,
            "total": round(subtotal + shipping - discount, 2)}
