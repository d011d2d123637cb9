-- Rows cleaning could not repair, as they came in, with the reason; stored under _quarantine/.
SELECT customer_id, first_name, last_name, email_address, phone_number, shipping_address,
       total_purchase_value, vip_status, order_id, order_date, product_id, delivery_status,
       payment_info, discount_code, delivery_address, quarantine_reason
FROM FLOWFILE
WHERE COALESCE(quarantine_reason, '') <> ''
