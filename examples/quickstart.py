"""The README's quick start: save an object to the server and query it back.

Run it with LEANCLOUD_API_SERVER, LEANCLOUD_APP_ID and LEANCLOUD_APP_KEY set to the
values `python -m leancloud serve` prints (or call leancloud.init(...) here instead).
"""
import leancloud

Todo = leancloud.Object.extend("Todo")
Todo(title="Buy milk", done=False).save()
todo = Todo.query.equal_to("title", "Buy milk").first()
print(f"Found: {todo.get('title')} (done: {todo.get('done')})")
