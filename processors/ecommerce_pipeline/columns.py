"""The column contract between the CSV exports, the cleaning step and the lake.

One place for the names: the raw export's 17 headers, the snake_case names the
cleaned data and every segment use, and which raw columns are dropped as duplicates.
"""

RAW_COLUMNS = (
    "Customer ID",
    "First Name",
    "Last Name",
    "Email Address",
    "Phone Number",
    "Shipping Address",
    "Total Purchase Value",
    "VIP Status",
    "Order ID",
    "Order Date",
    "Product ID",
    "Delivery Status",
    "Payment Info",
    "Shipping Address.1",
    "Discount Code",
    "Delivery Address",
    "Shipping Address Duplicate",
)

DUPLICATE_RAW_COLUMNS = ("Shipping Address.1", "Shipping Address Duplicate")

CLEAN_COLUMNS = (
    "customer_id",
    "first_name",
    "last_name",
    "email_address",
    "phone_number",
    "shipping_address",
    "total_purchase_value",
    "vip_status",
    "order_id",
    "order_date",
    "product_id",
    "delivery_status",
    "payment_info",
    "discount_code",
    "delivery_address",
)

RAW_TO_CLEAN = {
    raw: clean
    for raw, clean in zip(
        (c for c in RAW_COLUMNS if c not in DUPLICATE_RAW_COLUMNS), CLEAN_COLUMNS, strict=True
    )
}

QUARANTINE_REASON_COLUMN = "quarantine_reason"
