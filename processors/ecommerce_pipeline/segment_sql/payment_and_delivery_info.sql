-- How it was paid and delivered, with the gift the order earned:
-- below 500 a Wireless Mouse, up to and including 1200 Bluetooth Headphones, above that both.
-- The CASTs to VARCHAR keep the labels unpadded: Calcite pads CHAR literals to one length.
SELECT customer_id, order_id, CAST(total_purchase_value AS DOUBLE) AS total_purchase_value,
       payment_info, delivery_status, delivery_address,
       CASE
           WHEN CAST(total_purchase_value AS DOUBLE) < 500 THEN CAST('Wireless Mouse' AS VARCHAR)
           WHEN CAST(total_purchase_value AS DOUBLE) <= 1200 THEN CAST('Bluetooth Headphones' AS VARCHAR)
           ELSE CAST('Keyboard + Wireless Mouse' AS VARCHAR)
       END AS gift_won
FROM FLOWFILE
WHERE COALESCE(quarantine_reason, '') = ''
