-- Pick a group by name
select chat_id, chat_title, chat_type, first_message_date, last_message_date, messages
from chats
order by messages desc, chat_id;
