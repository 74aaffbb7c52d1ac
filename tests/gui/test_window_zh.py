#!/usr/bin/python3
"""The window in Simplified Chinese (LANGUAGE=zh_CN): the pages and the
account dialog carry the words Yate's users know. Screenshots as
gui-zh-*.png. Run by run-gui-test.sh with LANGUAGE=zh_CN.

usage: test_window_zh.py OUTDIR CONFIG_HOME SOFTPHONE"""

import sys

import guitest
from guitest import app_node, check, click, field_in, find, frame, screenshot, show_page, wait_for

guitest.OUTDIR = sys.argv[1]

app = wait_for(app_node, "the softphone application on the accessibility bus", 30)
if app is None:
    sys.exit(1)
check(wait_for(lambda: frame(app, "Softphone 软电话"), "the main window") is not None,
      "the window title is translated")
for tab in ("呼叫", "帐户", "服务器", "日志", "历史记录"):
    check(find(app, "page tab", name=tab) is not None, "page tab " + tab)
check(find(app, "label", name="直连（无帐户）") is not None, "Direct (no account) in Chinese")
check(find(app, "push button", contains="呼叫") is not None, "the Call button says 呼叫")
screenshot("zh-calls")

show_page(app, "帐户")
new = wait_for(lambda: find(app, "push button", prefix="新建帐户"), "the New account button")
if check(new is not None, "New account button in Chinese"):
    click(new)
    dialog = wait_for(lambda: frame(app, "新建帐户"), "the New Account dialog")
    if check(dialog is not None, "the account dialog opens with a Chinese title"):
        for field in ("协议", "帐户", "用户名", "密码", "服务器"):
            check(field_in(dialog, field) is not None, "dialog field " + field)
        check(find(dialog, "push button", contains="确定") is not None, "OK says 确定")
        screenshot("zh-account-dialog")
        click(find(dialog, "push button", contains="取消"))
        check(wait_for(lambda: frame(app, "新建帐户") is None, "dialog closed") is True,
              "取消 closes the dialog")

print("%d failure(s)" % len(guitest.failures), flush=True)
sys.exit(1 if guitest.failures else 0)
