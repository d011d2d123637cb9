-- How it was paid and delivered, with the gift the order earned:
-- below 500 a Wireless Mouse, up to and including 1200 Bluetooth Headphones, above that both.
-- The CASTs keep the labels VARCHAR: NiFi's Calcite would pad CHAR literals to one length.
SELECT customer_id, order_id, total_purchase_value, payment_info, delivery_status, delivery_address,
       CASE
           WHEN total_purchase_value < 500 THEN CAST('Wireless Mouse' AS VARCHAR)
           WHEN total_purchase_value <= 1200 THEN CAST('Bluetooth Headphones' AS VARCHAR)
           ELSE CAST('Keyboard + Wireless Mouse' AS VARCHAR)
       END AS gift_won
FROM FLOWFILE
