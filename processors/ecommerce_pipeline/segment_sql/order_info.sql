-- What was ordered and when; discount_code is kept (no input column may be lost).
SELECT customer_id, order_id, CAST(order_date AS DATE) AS order_date, product_id,
       CAST(total_purchase_value AS DOUBLE) AS total_purchase_value, discount_code
FROM FLOWFILE
WHERE COALESCE(quarantine_reason, '') = ''
