-- Who the customer is: every direct identifier lives here (and is encrypted by policy).
SELECT customer_id, first_name, last_name, email_address, phone_number, shipping_address, vip_status
FROM FLOWFILE
WHERE COALESCE(quarantine_reason, '') = ''
