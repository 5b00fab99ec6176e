-- E-mail dedupe is scoped to the sender: the inbox key of an email with a Message-ID becomes
-- `<sender> <message id>` (the chat id of an email is the sender's address), so the same
-- Message-ID from another customer is a new email. Keys without a Message-ID are hashes that
-- already include the sender. Rewriting the stored keys keeps a redelivery of an email
-- received before this change recognised.
UPDATE inbox SET external_id = chat_id || ' <' || external_id || '>'
WHERE channel = 'email' AND external_id NOT LIKE 'sha256:%' AND external_id NOT LIKE '% <%>';
