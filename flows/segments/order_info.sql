-- What was ordered and when; discount_code is kept (no input column may be lost).
SELECT customer_id, order_id, order_date, product_id, total_purchase_value, discount_code
FROM FLOWFILE
