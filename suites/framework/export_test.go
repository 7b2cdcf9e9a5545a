package framework

// VoidRefusalsAfterLockout exposes voidRefusalsAfterLockout to the tests.
var VoidRefusalsAfterLockout = voidRefusalsAfterLockout
